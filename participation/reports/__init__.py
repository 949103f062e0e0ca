"""Analytics: indicator definitions, the daily rollup, dashboards, rating, exports, digests."""
