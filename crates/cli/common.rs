//! Loading networks and domains from arguments, and the Ctrl-C flag.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use anyhow::{Context, Result, bail};
use mipbound_formulation::Domain;
use mipbound_network::Network;

use crate::args::NetArgs;

/// Reads and validates the network named by the arguments.
pub fn load_network(args: &NetArgs) -> Result<Network> {
    Ok(mipbound_network::formats::load(&args.net, args.format)?)
}

/// Parses `--box LO,HI` for a network with `dim` inputs.
pub fn parse_domain(spec: &str, dim: usize) -> Result<Domain> {
    let parts: Vec<&str> = spec.split(',').map(str::trim).collect();
    let [lo, hi] = parts.as_slice() else {
        bail!("--box {spec}: expected LO,HI (for example --box 0,1 or --box -1,1)");
    };
    let parse = |s: &str| -> Result<f64> {
        s.parse::<f64>()
            .with_context(|| format!("--box {spec}: '{s}' is not a number"))
    };
    Domain::uniform(dim, parse(lo)?, parse(hi)?).with_context(|| format!("--box {spec}"))
}

/// Loads the network and the domain together.
pub fn load_network_and_domain(args: &NetArgs) -> Result<(Network, Domain)> {
    let net = load_network(args)?;
    let domain = parse_domain(&args.domain, net.input_dim())?;
    Ok((net, domain))
}

/// The flag set by Ctrl-C: searches stop between nodes and the command reports what it has.
/// The handler is installed once per process, on first use.
pub fn interrupt_flag() -> Arc<AtomicBool> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    Arc::clone(FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let handler = Arc::clone(&flag);
        // Failing to install it only means Ctrl-C kills the process the default way.
        let _ = ctrlc::set_handler(move || handler.store(true, Ordering::Relaxed));
        flag
    }))
}

/// `--threads`, defaulting to every core; 0 is refused.
pub fn threads(requested: Option<usize>) -> Result<usize> {
    match requested {
        Some(0) => bail!("--threads must be at least 1"),
        Some(n) => Ok(n),
        None => Ok(mipbound_search::parallel::default_threads()),
    }
}
