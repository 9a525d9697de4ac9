"""The bad-input catalogue of issue 16: each case feeds hftui one bad input and asserts what the user sees."""
