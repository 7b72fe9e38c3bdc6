"""Alert digests: what each channel has not received yet, built, delivered and recorded."""

from claimwatch.exports import public_names

__all__, __getattr__, __dir__ = public_names(
    __name__,
    {
        "build": ["parse_since", "prepare"],
        "channels": ["deliver"],
        "config": ["DigestConfig", "load_digest_config"],
        "model": ["Delivery", "Digest"],
        "overview": ["write_overview"],
        "render": ["render_digest"],
        "run": ["DigestRun", "run_digest"],
    },
)
