//! `--measured "key=value,...:SECONDS"`: a measured epoch time of one
//! configuration on one thread (e.g. a heavy epoch timed with `train`),
//! which overrides the cost model for every run it matches and joins
//! its fit.

use toml::{Table, Value};

use crate::config::{Keyed, RunConfig, Settings};
use crate::error::{Error, Result};

/// The keys a measurement may name (with `train`, `batch`, `val` as
/// short forms of the first three).
pub const KEYS: [&str; 9] = [
    "train_size",
    "batch_size",
    "val_size",
    "dataset",
    "depth",
    "width",
    "optimizer",
    "lr",
    "seed",
];

/// Keys a measurement must give.
const NEEDED: [&str; 4] = ["train_size", "batch_size", "depth", "width"];

/// One `--measured` value.
#[derive(Clone, Debug)]
pub struct Measured {
    /// As given.
    pub text: String,
    /// The keys it names.
    pub keys: Vec<String>,
    /// Its configuration (the default settings under the keys).
    pub cfg: RunConfig,
    /// Seconds per epoch on one thread.
    pub seconds: f64,
}

/// A value as the spec would write it: a number or boolean if it reads
/// as one, else a string.
fn value(v: &str) -> Value {
    if let Ok(i) = v.parse::<i64>() {
        Value::Integer(i)
    } else if let Ok(f) = v.parse::<f64>() {
        Value::Float(f)
    } else if let Ok(b) = v.parse::<bool>() {
        Value::Boolean(b)
    } else {
        Value::String(v.to_string())
    }
}

/// One setting of `cfg`, shown for comparison.
fn field(cfg: &RunConfig, key: &str) -> String {
    match key {
        "train_size" => cfg.train_size.to_string(),
        "batch_size" => cfg.batch_size.to_string(),
        "val_size" => format!("{:?}", cfg.val_size),
        "dataset" => cfg.dataset.label(),
        "depth" => cfg.shape.depth.to_string(),
        "width" => cfg.shape.width.to_string(),
        "optimizer" => cfg.optimizer.name().to_string(),
        "lr" => cfg.optimizer.lr().to_string(),
        _ => cfg.seed.to_string(),
    }
}

impl Measured {
    /// Parses `depth=3,width=1000,batch_size=16,train_size=55000,dataset=mnist:24.2`.
    pub fn parse(text: &str) -> Result<Measured> {
        let bad = |why: String| {
            Error::usage(format!(
                "--measured {text:?}: {why} (form: key=value,...:SECONDS with keys {})",
                KEYS.join(", ")
            ))
        };
        let (settings, secs) = text
            .rsplit_once(':')
            .ok_or_else(|| bad("no :SECONDS".into()))?;
        let seconds: f64 = secs
            .trim()
            .parse()
            .ok()
            .filter(|s: &f64| *s > 0.0)
            .ok_or_else(|| bad(format!("{secs:?} is not a positive number of seconds")))?;
        let mut table = Table::new();
        for part in settings.split(',') {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| bad(format!("{part:?} is not key=value")))?;
            let k = match k.trim() {
                "train" => "train_size",
                "batch" => "batch_size",
                "val" => "val_size",
                k => k,
            };
            if !KEYS.contains(&k) {
                return Err(bad(format!("unknown key `{k}`")));
            }
            table.insert(k.to_string(), value(v.trim()));
        }
        if let Some(k) = NEEDED.iter().find(|k| !table.contains_key(**k)) {
            return Err(bad(format!("needs {k}")));
        }
        let keys = table.keys().cloned().collect();
        let cfg = Settings::from_table(table)
            .and_then(|s| s.resolve())
            .map_err(|e| bad(e.to_string()))?;
        Ok(Measured {
            text: text.to_string(),
            keys,
            cfg,
            seconds,
        })
    }

    /// Whether `cfg` has every setting this measurement names.
    pub fn matches(&self, cfg: &RunConfig) -> bool {
        self.keys
            .iter()
            .all(|k| field(cfg, k) == field(&self.cfg, k))
    }

    /// The most specific of `all` that matches `cfg`.
    pub fn best<'a>(all: &'a [Measured], cfg: &RunConfig) -> Option<&'a Measured> {
        all.iter()
            .filter(|m| m.matches(cfg))
            .fold(None, |best: Option<&Measured>, m| match best {
                Some(b) if b.keys.len() >= m.keys.len() => Some(b),
                _ => Some(m),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_matches_and_refuses() {
        let m =
            Measured::parse("depth=3,width=1000,batch=16,train=55000,dataset=mnist:24.2").unwrap();
        assert_eq!(m.seconds, 24.2);
        assert_eq!((m.cfg.shape.width, m.cfg.batch_size), (1000, 16));
        let mut other = m.cfg.clone();
        assert!(m.matches(&other));
        other.seed = 7;
        assert!(m.matches(&other), "the seed is not named");
        other.batch_size = 64;
        assert!(!m.matches(&other));
        for bad in [
            "depth=3:1",
            "depth=3,width=10,batch=16,train=100",
            "depth=3,width=10,batch=16,train=100,colour=red:2",
            "depth=3,width=10,batch=16,train=100:-1",
        ] {
            let e = Measured::parse(bad).unwrap_err();
            assert!(e.to_string().starts_with("--measured"), "{e}");
        }
    }
}
