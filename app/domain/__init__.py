"""The rules of Relais in plain Python: no Flask, no database."""
