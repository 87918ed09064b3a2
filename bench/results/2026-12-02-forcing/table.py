"""Tables of the 3-seed bench after jump-forward decoding and the share cap (issues 11 and
12): the same tables as ../2026-12-01-quota/table.py, from this run's database.
Usage: python3 table.py bench.db [runs.json]"""
import os, runpy

runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '2026-12-01-quota', 'table.py'),
               run_name='__main__')
