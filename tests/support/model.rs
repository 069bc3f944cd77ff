//! The model type the tests and benches share, written as a user writes
//! their own: an id, a model type label and a parameter count. (The macro
//! tests declare variants with other field types on purpose; examples keep
//! their own so they read complete.)
#![allow(dead_code)]

use photon_metrics::labels::ModelType;
use photon_metrics::ModelInfo;

#[derive(ModelInfo)]
pub struct Model {
    #[model(id)]
    pub id: &'static str,
    #[model(model_type)]
    pub arch: ModelType,
    #[model(parameters)]
    pub params: u64,
}
