"""A bare Flask "hello" app: the yardstick bench/throughput.py serves beside Relais under the same gunicorn."""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "Hello, World!"
