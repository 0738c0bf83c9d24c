"""Process entry points: the `pinghome` command and the start-up every role shares."""
