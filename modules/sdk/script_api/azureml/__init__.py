"""A stand-in for the parts of the Azure ML v1 SDK a user's script uses in its run, so that
scripts written for Azure ML (training scripts, the designer's Execute Python Script) run
in Atelier unchanged. It never reaches a service: what needs one says what to use instead."""
