"""The JSON API of the health-record system: submit an access attempt, get the decision."""
import hmac

from flask import Blueprint, current_app, jsonify, request

from ..extensions import csrf
from ..services.validation import RowErrors, submit_access

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _authorized() -> bool:
    key = current_app.config["OPERATOR_API_KEY"]
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return bool(key) and scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), key.encode())


@bp.post("/access-events")
def access_events():
    """Record an access attempt and answer the decision under the holder's settings."""
    if not _authorized():
        return jsonify(error="unauthorized", message="A valid bearer key is required."), 401, \
            {"WWW-Authenticate": 'Bearer realm="relais"'}
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # «[[[[…» nested beyond what the parser follows: not an event either
        data = None
    if not isinstance(data, dict):
        return jsonify(error="invalid", errors={"body": "must be a JSON object"}), 400
    try:
        event, decision, _created = submit_access(data, "api")
    except RowErrors as exc:
        return jsonify(error="invalid", errors=exc.errors), 400
    return jsonify(event_id=event.event_key, decision=decision.outcome, reason=decision.reason,
                   masked_documents_visible=decision.masked_documents_visible), 201


def register(app) -> None:
    csrf.exempt(bp)  # a machine client with a bearer key: no browser session to protect
    app.register_blueprint(bp)
