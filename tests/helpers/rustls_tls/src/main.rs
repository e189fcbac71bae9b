//! rustls_tls - a TLS client and server on rustls 0.20 (ring) for tracer's tests.
//!
//!   rustls_tls server CERT.der KEY.der         answers each line "rustls saw: LINE"; prints
//!                                              "PORT n" once listening on 127.0.0.1
//!   rustls_tls client PORT GO MSG...           blocking (rustls::Stream): once file GO exists,
//!   rustls_tls tokio-client PORT GO MSG...     or with tokio-rustls: each MSG sent as a line
//!                                              and its answer printed, on one connection
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
    while std::fs::metadata(go).is_err() {
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn serve(cert: &str, key: &str) {
    let cert = Certificate(std::fs::read(cert).expect("cert"));
    let key = PrivateKey(std::fs::read(key).expect("key"));
    let config = Arc::new(
        ServerConfig::builder()
            .with_safe_defaults()
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

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("server") if args.len() == 4 => serve(&args[2], &args[3]),
        Some("client") if args.len() >= 4 => client(&args[2], &args[3], &args[4..]),
        Some("tokio-client") if args.len() >= 4 => tokio_client(&args[2], &args[3], &args[4..]),
        _ => {
            eprintln!("usage: rustls_tls server CERT.der KEY.der | [tokio-]client PORT GO MSG...");
            std::process::exit(2);
        }
    }
}
