// SPDX-License-Identifier: Apache-2.0
//! rustls_tls - a TLS client and server on rustls 0.20 (ring) for tracer's tests.
//!
//!   rustls_tls server CERT.der KEY.der [ONLY]  answers each line "rustls saw: LINE"; prints
//!                                              "PORT n" once listening on 127.0.0.1; ONLY
//!                                              tls12-gcm or tls12-chacha: TLS 1.2 with
//!                                              ECDHE-RSA and that AEAD alone
//!   rustls_tls client PORT GO MSG...           blocking (rustls::Stream): once file GO exists,
//!   rustls_tls tokio-client PORT GO MSG...     or with tokio-rustls: each MSG sent as a line
//!                                              and its answer printed, on one connection
//!   rustls_tls get PORT GO PATH...             once file GO exists (GO "-": at once), asks
//!   rustls_tls tokio-get PORT GO PATH...       https://127.0.0.1:PORT for each PATH, a
//!                                              connection each (HTTP/1.1, Connection:
//!                                              close), and prints each response whole
//!   rustls_tls bench CERT.der KEY.der SIZE ITERS ROUNDS GO
//!                                              bench/runtimes' load (see bench())
//! The client accepts any certificate (tests use a self-signed one).
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rustls::client::{ServerCertVerified, ServerCertVerifier};
use rustls::{Certificate, ClientConfig, ClientConnection, PrivateKey, ServerConfig, ServerName};

struct AnyCert;

impl ServerCertVerifier for AnyCert {
    fn verify_server_cert(
        &self,
        _: &Certificate,
        _: &[Certificate],
        _: &ServerName,
        _: &mut dyn Iterator<Item = &[u8]>,
        _: &[u8],
        _: SystemTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
}

fn client_config() -> Arc<ClientConfig> {
    Arc::new(
        ClientConfig::builder()
            .with_safe_defaults()
            .with_custom_certificate_verifier(Arc::new(AnyCert))
            .with_no_client_auth(),
    )
}

fn wait_for(go: &str) {
    while go != "-" && std::fs::metadata(go).is_err() {
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn serve(cert: &str, key: &str, only: Option<&str>) {
    use rustls::cipher_suite::*;

    let cert = Certificate(std::fs::read(cert).expect("cert"));
    let key = PrivateKey(std::fs::read(key).expect("key"));
    let tls12 = |suite| {
        ServerConfig::builder()
            .with_cipher_suites(&[suite])
            .with_safe_default_kx_groups()
            .with_protocol_versions(&[&rustls::version::TLS12])
            .expect("TLS 1.2")
    };
    let builder = match only {
        None => ServerConfig::builder().with_safe_defaults(),
        Some("tls12-gcm") => tls12(TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256),
        Some("tls12-chacha") => tls12(TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256),
        Some(other) => panic!("unknown protocol {}", other),
    };
    let config = Arc::new(
        builder
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .expect("server config"),
    );
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    println!("PORT {}", listener.local_addr().unwrap().port());
    std::io::stdout().flush().unwrap();
    for sock in listener.incoming() {
        let config = config.clone();
        std::thread::spawn(move || {
            let mut sock = sock.expect("accept");
            let mut conn = rustls::ServerConnection::new(config).expect("server connection");
            let mut tls = BufReader::new(rustls::Stream::new(&mut conn, &mut sock));
            let mut line = String::new();
            while tls.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                let answer = format!("rustls saw: {}", line);
                tls.get_mut().write_all(answer.as_bytes()).expect("write");
                line.clear();
            }
        });
    }
}

fn client(port: &str, go: &str, msgs: &[String]) {
    let name = ServerName::try_from("localhost").unwrap();
    let mut conn = ClientConnection::new(client_config(), name).expect("client connection");
    let mut sock = TcpStream::connect(format!("127.0.0.1:{}", port)).expect("connect");
    wait_for(go);
    let mut tls = rustls::Stream::new(&mut conn, &mut sock);
    for msg in msgs {
        tls.write_all(format!("{}\n", msg).as_bytes()).expect("write");
        let want = format!("rustls saw: {}\n", msg).len();
        let mut got = vec![0u8; want];
        tls.read_exact(&mut got).expect("read");
        print!("{}", String::from_utf8_lossy(&got));
    }
}

fn tokio_client(port: &str, go: &str, msgs: &[String]) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let connector = tokio_rustls::TlsConnector::from(client_config());
        let sock = tokio::net::TcpStream::connect(format!("127.0.0.1:{}", port))
            .await
            .expect("connect");
        wait_for(go);
        let name = ServerName::try_from("localhost").unwrap();
        let mut tls = connector.connect(name, sock).await.expect("handshake");
        for msg in msgs {
            tls.write_all(format!("{}\n", msg).as_bytes()).await.expect("write");
            let want = format!("rustls saw: {}\n", msg).len();
            let mut got = vec![0u8; want];
            tls.read_exact(&mut got).await.expect("read");
            print!("{}", String::from_utf8_lossy(&got));
        }
    });
}

fn request(port: &str, path: &str) -> String {
    format!("GET {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n", path, port)
}

fn get(port: &str, go: &str, paths: &[String]) {
    wait_for(go);
    for path in paths {
        let name = ServerName::try_from("localhost").unwrap();
        let mut conn = ClientConnection::new(client_config(), name).expect("client connection");
        let mut sock = TcpStream::connect(format!("127.0.0.1:{}", port)).expect("connect");
        let mut tls = rustls::Stream::new(&mut conn, &mut sock);
        tls.write_all(request(port, path).as_bytes()).expect("write");
        let mut got = Vec::new();
        tls.read_to_end(&mut got).expect("read");
        print!("{}", String::from_utf8_lossy(&got));
    }
}

fn tokio_get(port: &str, go: &str, paths: &[String]) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    wait_for(go);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let connector = tokio_rustls::TlsConnector::from(client_config());
        for path in paths {
            let sock = tokio::net::TcpStream::connect(format!("127.0.0.1:{}", port))
                .await
                .expect("connect");
            let name = ServerName::try_from("localhost").unwrap();
            let mut tls = connector.connect(name, sock).await.expect("handshake");
            tls.write_all(request(port, path).as_bytes()).await.expect("write");
            let mut got = Vec::new();
            tls.read_to_end(&mut got).await.expect("read");
            print!("{}", String::from_utf8_lossy(&got));
        }
    });
}

/// Moves what `from` has to send into `to` (in memory), which takes it in.
fn pump(from: &mut rustls::Connection, to: &mut rustls::Connection) {
    let mut wire = Vec::new();
    while from.wants_write() {
        from.write_tls(&mut wire).expect("write_tls");
    }
    let mut rest = &wire[..];
    while !rest.is_empty() {
        to.read_tls(&mut rest).expect("read_tls");
        to.process_new_packets().expect("process_new_packets");
    }
}

/// bench/runtimes' load: a rustls client and server in this one thread, their records
/// passed in memory (rustls does no I/O of its own), so that only TLS work is timed; prints
/// "pid N" once the handshake is done, waits for GO, then runs ROUNDS rounds of ITERS round
/// trips of SIZE bytes (the client writes, the server reads and echoes, the client reads),
/// printing "round NS_PER_ITER" after each.
fn bench(cert: &str, key: &str, size: usize, iters: u32, rounds: u32, go: &str) {
    let cert = Certificate(std::fs::read(cert).expect("cert"));
    let key = PrivateKey(std::fs::read(key).expect("key"));
    let config = Arc::new(
        ServerConfig::builder()
            .with_safe_defaults()
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .expect("server config"),
    );
    let name = ServerName::try_from("localhost").unwrap();
    let mut client = rustls::Connection::Client(
        ClientConnection::new(client_config(), name).expect("client connection"),
    );
    let mut server = rustls::Connection::Server(
        rustls::ServerConnection::new(config).expect("server connection"),
    );
    while client.is_handshaking() || server.is_handshaking() {
        pump(&mut client, &mut server);
        pump(&mut server, &mut client);
    }
    let msg = vec![b'a'; size];
    let mut got = vec![0u8; size];
    let mut round_trip = |client: &mut rustls::Connection, server: &mut rustls::Connection| {
        client.writer().write_all(&msg).expect("write");
        pump(client, server);
        server.reader().read_exact(&mut got).expect("server read");
        server.writer().write_all(&got).expect("echo");
        pump(server, client);
        client.reader().read_exact(&mut got).expect("read");
    };
    round_trip(&mut client, &mut server);
    println!("pid {}", std::process::id());
    std::io::stdout().flush().unwrap();
    wait_for(go);
    for _ in 0..rounds {
        let t0 = std::time::Instant::now();
        for _ in 0..iters {
            round_trip(&mut client, &mut server);
        }
        println!("round {}", t0.elapsed().as_nanos() / iters as u128);
        std::io::stdout().flush().unwrap();
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("server") if args.len() == 4 || args.len() == 5 => {
            serve(&args[2], &args[3], args.get(4).map(String::as_str))
        }
        Some("client") if args.len() >= 4 => client(&args[2], &args[3], &args[4..]),
        Some("tokio-client") if args.len() >= 4 => tokio_client(&args[2], &args[3], &args[4..]),
        Some("get") if args.len() >= 4 => get(&args[2], &args[3], &args[4..]),
        Some("tokio-get") if args.len() >= 4 => tokio_get(&args[2], &args[3], &args[4..]),
        Some("bench") if args.len() == 8 => bench(
            &args[2],
            &args[3],
            args[4].parse().expect("SIZE"),
            args[5].parse().expect("ITERS"),
            args[6].parse().expect("ROUNDS"),
            &args[7],
        ),
        _ => {
            eprintln!(
                "usage: rustls_tls server CERT.der KEY.der [tls12-gcm|tls12-chacha] | \
                 [tokio-]client PORT GO MSG... | [tokio-]get PORT GO PATH... | \
                 bench CERT.der KEY.der SIZE ITERS ROUNDS GO"
            );
            std::process::exit(2);
        }
    }
}
