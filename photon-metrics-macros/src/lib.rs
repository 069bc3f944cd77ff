//! Attribute macros and derives for photon-metrics.
