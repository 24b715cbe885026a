"""One plain handler function per action, over the ports in ``Services``."""
