"""The hot paths under wrk (`make bench`, bench/coupons_bench.py), by part: `servers`,
`database`, `world` (set-up through the API), `harness` (measuring), `scenarios`, `report`."""
