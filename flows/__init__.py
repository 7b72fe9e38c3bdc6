"""The Prefect flows, installed as the package `claimwatch.flows`.

`claimwatch run`, `claimwatch serve` and the deployments (prefect.yaml) import them
by module name, e.g. `claimwatch.flows.monitor:monitor`, so they run wherever
claimwatch is installed; `python flows/serve.py` from a checkout works too.
"""
