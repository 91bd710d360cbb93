"""A stand-in for the parts of the Azure ML v1 SDK a training script uses in its run, so
that scripts written for Azure ML run in an Atelier job unchanged."""
