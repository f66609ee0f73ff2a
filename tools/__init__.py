"""The programs build.py runs (see README, Layout); server.py is also imported."""
