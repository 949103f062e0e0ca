"""Demonstration data: a realistic region (Республика Башкортостан) with staff and residents."""
