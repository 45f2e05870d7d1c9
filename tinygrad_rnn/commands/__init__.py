"""The subcommands of `tinygrad-rnn`, one module each, and the helpers they share."""
