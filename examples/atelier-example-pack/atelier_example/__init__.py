"""An example Atelier pack: a module (Add Row Numbers) and a compute backend kind (a
one-at-a-time local target). Copy it to start your own; see README.md."""
