//! Flags made from a settings type's key table ([`Keyed::KEYS`]): each
//! key `train_size` becomes `--train-size`, with its help, value name
//! and environment variable (`--mirror`, `$PREINTERP_MIRROR`).
//! Commands flatten [`Flags<Settings>`] or [`Flags<DataLocation>`]
//! (`#[command(flatten)]`), so the flags, the sweep keys and their help
//! all come from the one table in `config`. Values are typed by the same
//! deserialisation as a sweep spec, with errors that name the flag.
//!
//! [`Settings`]: preinterp::config::Settings
//! [`DataLocation`]: preinterp::config::DataLocation

use std::marker::PhantomData;

use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Args, Command, FromArgMatches};

use preinterp::config::{Keyed, Kind};
use preinterp::error::Result;

/// The flags of `T`'s keys that were given, as written.
#[derive(Clone, Debug)]
pub struct Flags<T> {
    given: Vec<(&'static str, String)>,
    _of: PhantomData<T>,
}

impl<T: Keyed> Flags<T> {
    /// The typed settings (a usage error names a bad flag).
    pub fn parse(&self) -> Result<T> {
        let pairs: Vec<(&str, &str)> = self.given.iter().map(|(k, v)| (*k, v.as_str())).collect();
        T::from_pairs(&pairs)
    }

    /// Flags given, as `--name`.
    pub fn names(&self) -> Vec<String> {
        self.given
            .iter()
            .filter_map(|(k, _)| T::key(k))
            .map(|k| k.flag())
            .collect()
    }
}

impl<T: Keyed> FromArgMatches for Flags<T> {
    fn from_arg_matches(m: &ArgMatches) -> std::result::Result<Self, clap::Error> {
        let mut given = vec![];
        for k in T::KEYS {
            match k.kind {
                Kind::Switch => {
                    if m.get_flag(k.name) {
                        given.push((k.name, "true".to_string()));
                    }
                }
                _ => {
                    // An empty environment variable counts as unset, as
                    // the library reads it.
                    let from_env = m.value_source(k.name) == Some(ValueSource::EnvVariable);
                    if let Some(v) = m.get_one::<String>(k.name) {
                        if !(from_env && v.is_empty()) {
                            given.push((k.name, v.clone()));
                        }
                    }
                }
            }
        }
        Ok(Flags {
            given,
            _of: PhantomData,
        })
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> std::result::Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

impl<T: Keyed> Args for Flags<T> {
    fn augment_args(cmd: Command) -> Command {
        T::KEYS.iter().fold(cmd, |cmd, k| {
            let long = k.name.replace('_', "-");
            let arg = Arg::new(k.name).long(long).help(k.help);
            let arg = match k.kind {
                Kind::Switch => arg.action(ArgAction::SetTrue),
                Kind::Whole | Kind::Number | Kind::Pair => {
                    arg.value_name(k.value_name).allow_negative_numbers(true)
                }
                _ => arg.value_name(k.value_name),
            };
            let arg = match k.env {
                Some(name) => arg.env(name),
                None => arg,
            };
            cmd.arg(arg)
        })
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}
