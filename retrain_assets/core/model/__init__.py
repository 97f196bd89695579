"""One model: splits, training, calibration, evaluation, health, drift, provenance."""
