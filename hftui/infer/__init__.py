"""Trying models one input at a time: the inference playground's domain (no Textual here).

- `tasks`: which playground tasks a local model offers, from its config and card, before loading it.
- `local`: one input through a loaded pipeline for the text tasks (fill-mask, entities, zero-shot,
  sentence embeddings and their similarities), as plain values.
- `generate`: streamed, stoppable text generation and chat with a local causal LM; saved chats.
- `endpoints`: named inference endpoints (providers, OpenAI-compatible servers), kept without tokens.
- `failover`: a streamed chat through an ordered chain of endpoints, and what failed on the way.
- `benchmark`: endpoints, failover chains and local models side by side on one prompt set over rotating
  rounds (time to first token, latency p50/p95, tokens/s, errors by kind, failovers); `benchmark_reports`
  writes it as Markdown, JSON or CSV.
"""
