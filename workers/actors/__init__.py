"""One module per job kind; `workers.broker.setup_broker` loads them all."""
