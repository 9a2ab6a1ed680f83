//! The datasets preinterp knows by name: their files, canonical
//! SHA-256 checksums (of the `.gz` files) and download mirrors.

use std::fmt;

/// The four files of a dataset, in the order train images, train
/// labels, test images, test labels.
pub const FILES: [&str; 4] = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
];

/// A dataset known by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetId {
    /// MNIST handwritten digits.
    Mnist,
    /// Zalando's Fashion-MNIST.
    FashionMnist,
}

impl DatasetId {
    /// Every known dataset.
    pub const ALL: [DatasetId; 2] = [DatasetId::Mnist, DatasetId::FashionMnist];

    /// `"mnist"` or `"fashion-mnist"` (also the cache folder name).
    pub fn name(self) -> &'static str {
        match self {
            DatasetId::Mnist => "mnist",
            DatasetId::FashionMnist => "fashion-mnist",
        }
    }

    /// Parses a name (`mnist`, `fashion-mnist`, `fmnist`).
    pub fn parse(s: &str) -> Option<DatasetId> {
        match s.to_ascii_lowercase().as_str() {
            "mnist" => Some(DatasetId::Mnist),
            "fashion-mnist" | "fashion_mnist" | "fmnist" => Some(DatasetId::FashionMnist),
            _ => None,
        }
    }

    /// SHA-256 of each file in [`FILES`] order (canonical downloads).
    pub fn sha256(self) -> [&'static str; 4] {
        match self {
            DatasetId::Mnist => [
                "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            ],
            DatasetId::FashionMnist => [
                "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
            ],
        }
    }

    /// Mirrors tried in order; a file's URL is the mirror plus its name.
    pub(crate) fn mirrors(self) -> &'static [&'static str] {
        match self {
            DatasetId::Mnist => &[
                "https://ossci-datasets.s3.amazonaws.com/mnist/",
                "https://storage.googleapis.com/cvdf-datasets/mnist/",
            ],
            DatasetId::FashionMnist => &[
                "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
            ],
        }
    }
}

impl fmt::Display for DatasetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
