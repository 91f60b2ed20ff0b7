//! TEMPORARY STUB — replaced by the real simulator.
use std::net::SocketAddr;
#[derive(Debug, Clone, Default)]
pub struct Scenario {
    pub containers: usize,
}
impl Scenario {
    pub fn fargate() -> Scenario {
        Scenario { containers: 3 }
    }
    pub fn ec2() -> Scenario {
        Scenario { containers: 3 }
    }
}
#[derive(Debug, Clone, Default)]
pub struct SimOptions {
    pub scenario: Scenario,
}
pub struct SimServer {
    url: String,
    addr: SocketAddr,
}
impl SimServer {
    pub fn base_url(&self) -> &str {
        &self.url
    }
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
    pub async fn shutdown(self) {}
}
pub async fn start(_o: SimOptions, _port: u16) -> std::io::Result<SimServer> {
    Err(std::io::Error::other("stub"))
}
#[derive(clap::Args, Debug, Clone)]
pub struct SimulateArgs {}
pub async fn run_simulate(_a: SimulateArgs) -> std::process::ExitCode {
    std::process::ExitCode::FAILURE
}
