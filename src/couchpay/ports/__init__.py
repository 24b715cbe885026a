"""Ports: the tiny abstract classes the service layer talks to. No SDK types cross them."""
