"""hftui: the Hugging Face ecosystem in a terminal."""

__version__ = "0.1.0"
