"""The trainer's child process, as the app sees it: commands in, batched events out."""
