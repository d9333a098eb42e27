"""The data stack, the API stack, and one stack per service."""
