// SPDX-License-Identifier: Apache-2.0

// gotls - a TLS client and server in Go for the tracer's tests (127.0.0.1 only).
//
//	gotls server -cert C -key K [-ask]   listens on 127.0.0.1, says "PORT n", and echoes
//	                                     each length-prefixed message on each connection;
//	                                     with -ask each client must present a certificate
//	gotls load -cert C -key K -msgs M -size S [-go FILE]
//	                                     one process: a client and a server connection over
//	                                     127.0.0.1; M times the client writes S bytes and the
//	                                     server reads them; says "SECONDS s" (bench/go)
//	gotls client -port N -conns C -msgs M -size S [-deep] [-go FILE] [-cert C -key K]
//	                                     C connections at once, each sending M messages of
//	                                     S bytes and checking their echo; says per
//	                                     connection "CONN c PORT p" (its local port)
//
// Message m of connection c is payload(c, m, S): a header naming both, then filler, so a
// test can rebuild every byte. With -deep each message is sent from a new goroutine at a
// random depth of recursion, and the garbage collector runs often: goroutine stacks grow
// and move (and shrink) while Write and Read are in flight.
package main

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

func payload(c, m, size int) []byte {
	b := make([]byte, size)
	head := fmt.Sprintf("conn %d msg %d ", c, m)
	for i := range b {
		if i < len(head) {
			b[i] = head[i]
		} else {
			b[i] = byte('a' + (c*7+m*3+i)%26)
		}
	}
	return b
}

func serve(conn net.Conn) {
	defer conn.Close()
	var hdr [4]byte
	for {
		if _, err := io.ReadFull(conn, hdr[:]); err != nil {
			return
		}
		msg := make([]byte, binary.BigEndian.Uint32(hdr[:]))
		if _, err := io.ReadFull(conn, msg); err != nil {
			return
		}
		if _, err := conn.Write(append(hdr[:], msg...)); err != nil {
			return
		}
	}
}

// listen listens for TLS on 127.0.0.1 with the certificate and key in these files; with
// ask, each client must present a certificate (any: it is not checked).
func listen(certFile, keyFile string, ask bool) (net.Listener, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	config := &tls.Config{Certificates: []tls.Certificate{cert}}
	if ask {
		config.ClientAuth = tls.RequireAnyClientCert
	}
	return tls.Listen("tcp", "127.0.0.1:0", config)
}

func server(certFile, keyFile string, ask bool) error {
	ln, err := listen(certFile, keyFile, ask)
	if err != nil {
		return err
	}
	fmt.Printf("PORT %d\n", ln.Addr().(*net.TCPAddr).Port)
	os.Stdout.Sync()
	for {
		conn, err := ln.Accept()
		if err != nil {
			return err
		}
		go serve(conn)
	}
}

// deep calls f at a depth of recursion n, each level with a frame of its own.
func deep(n int, f func() error) error {
	var pad [256]byte
	if n <= 0 {
		return f()
	}
	pad[n%256] = byte(n)
	err := deep(n-1, f)
	runtime.KeepAlive(pad)
	return err
}

// exchange sends msg and reads its echo, at a random depth when deepen.
func exchange(conn *tls.Conn, msg []byte, deepen bool, rnd *rand.Rand) error {
	out := make([]byte, 4+len(msg))
	binary.BigEndian.PutUint32(out, uint32(len(msg)))
	copy(out[4:], msg)
	back := make([]byte, len(out))
	write := func() error { _, err := conn.Write(out); return err }
	read := func() error { _, err := io.ReadFull(conn, back); return err }
	if !deepen {
		if err := write(); err != nil {
			return err
		}
		if err := read(); err != nil {
			return err
		}
	} else {
		errs := make(chan error, 1)
		depth := rnd.Intn(200)
		go func() { errs <- deep(depth, write) }()
		if err := <-errs; err != nil {
			return err
		}
		go func() { errs <- deep(depth/2, read) }()
		if err := <-errs; err != nil {
			return err
		}
	}
	if string(back[4:]) != string(msg) {
		return fmt.Errorf("echo differs")
	}
	return nil
}

func client(port, conns, msgs, size int, deepen bool, sni, alpn, certFile, keyFile string) error {
	config := &tls.Config{InsecureSkipVerify: true, ServerName: sni}
	if alpn != "" {
		config.NextProtos = strings.Split(alpn, ",")
	}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return err
		}
		config.Certificates = []tls.Certificate{cert}
	}
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	dialed := make(chan struct{}, conns)
	var mu sync.Mutex
	for c := 0; c < conns; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			conn, err := tls.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port), config)
			if err != nil {
				errs <- err
				return
			}
			defer conn.Close()
			mu.Lock()
			fmt.Printf("CONN %d PORT %d\n", c, conn.LocalAddr().(*net.TCPAddr).Port)
			mu.Unlock()
			dialed <- struct{}{}
			rnd := rand.New(rand.NewSource(int64(c)))
			sum := sha256.New()
			for m := 0; m < msgs; m++ {
				msg := payload(c, m, size)
				sum.Write(msg)
				if err := exchange(conn, msg, deepen, rnd); err != nil {
					errs <- fmt.Errorf("conn %d msg %d: %v", c, m, err)
					return
				}
			}
			mu.Lock()
			fmt.Printf("DONE %d %x\n", c, sum.Sum(nil))
			mu.Unlock()
		}(c)
	}
	if deepen {
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
					runtime.GC() // shrinks idle stacks: the next growth moves them again
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return err
	}
	return nil
}

// load times msgs writes of size bytes by one end of a connection and their reads by the
// other, both in this goroutine (bench/go: a Go program's crypto/tls calls in one process).
func load(certFile, keyFile string, msgs, size int, goFile string) error {
	ln, err := listen(certFile, keyFile, false)
	if err != nil {
		return err
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		conn, err := ln.Accept()
		if err == nil {
			err = conn.(*tls.Conn).Handshake()
		}
		if err != nil {
			conn = nil
		}
		accepted <- conn
	}()
	client, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		return err
	}
	defer client.Close()
	server := <-accepted
	if server == nil {
		return fmt.Errorf("the server's handshake failed")
	}
	defer server.Close()
	out, in := payload(0, 0, size), make([]byte, size)
	waitFor(goFile)
	start := time.Now()
	for m := 0; m < msgs; m++ {
		if _, err := client.Write(out); err != nil {
			return err
		}
		if _, err := io.ReadFull(server, in); err != nil {
			return err
		}
	}
	fmt.Printf("SECONDS %.6f\n", time.Since(start).Seconds())
	return nil
}

func waitFor(path string) {
	for path != "" {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: gotls server|client ...")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	cert := fs.String("cert", "", "certificate (server, load; client: presented when asked)")
	key := fs.String("key", "", "private key (server, load; client: presented when asked)")
	ask := fs.Bool("ask", false, "ask each client for a certificate (server)")
	port := fs.Int("port", 0, "server port (client)")
	conns := fs.Int("conns", 1, "connections at once (client)")
	msgs := fs.Int("msgs", 1, "messages per connection (client)")
	size := fs.Int("size", 100, "bytes per message (client)")
	deepen := fs.Bool("deep", false, "send from goroutines at random depths, GC often")
	goFile := fs.String("go", "", "wait for this file before the first connection")
	sni := fs.String("sni", "", "server name to ask for (client)")
	alpn := fs.String("alpn", "", "protocols to offer, comma-separated (client)")
	fs.Parse(os.Args[2:])
	var err error
	switch os.Args[1] {
	case "server":
		err = server(*cert, *key, *ask)
	case "client":
		waitFor(*goFile)
		err = client(*port, *conns, *msgs, *size, *deepen, *sni, *alpn, *cert, *key)
	case "load":
		err = load(*cert, *key, *msgs, *size, *goFile)
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gotls:", err)
		os.Exit(1)
	}
}
