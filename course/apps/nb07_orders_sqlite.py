"""The pool-stall starter (``nb07_orders_starter.py``, unchanged) on a SQLite file instead of
PostgreSQL: the same pool (5 connections, 1 s to get one), the same transaction held across
the 0.3 s pricing call. The schema is made here first, in the run's own working folder.
"""

import os
import sqlite3

os.environ["DATABASE_URL"] = "sqlite+aiosqlite:///orders.db"
with sqlite3.connect("orders.db") as db:
    db.executescript("""
        CREATE TABLE IF NOT EXISTS accounts (id integer PRIMARY KEY, owner text NOT NULL);
        INSERT OR IGNORE INTO accounts
            WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 300)
            SELECT n, 'owner-' || n FROM g;
        CREATE TABLE IF NOT EXISTS orders (id integer PRIMARY KEY, account_id integer NOT NULL,
            item_id integer NOT NULL, name text NOT NULL, owner text NOT NULL);
    """)

from nb07_orders_starter import app  # noqa: E402, F401 - the starter's app, served as is
