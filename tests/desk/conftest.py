"""The desk as its staff use it: through the Flask test client, without JavaScript, each page checked (Page)."""
import re
from datetime import timezone

import pyotp
import pytest

from app import clock
from app.services import staff
from tests.conftest import Page, User

PASSPHRASE = "violet tramway cinq hérissons"
SECRETS = {"agent": "AGENTAGENTAGENTAGENTAGENTAGENTAG", "counsellor": "COUNSELLORCOUNSELLORCOUNSELLORCO",
           "supervisor": "SUPERVISORSUPERVISORSUPERVISORSU"}


def code_now(secret: str, shift: int = 0) -> str:
    """The authenticator's code at this moment of the app's clock (`shift` steps of 30 s later or earlier)."""
    return pyotp.TOTP(secret).at(clock.now().replace(tzinfo=timezone.utc).timestamp() + 30 * shift)


class Desk(User):
    """A member of staff at the desk: signs in, opens cases, acts; the pages checked as the person's are."""

    def __init__(self, client, lang="en", email=None, secret=None):
        super().__init__(client, lang)
        self.email, self.secret = email, secret

    def sign_in(self, passphrase=PASSPHRASE, code=None, shift=0) -> Page:
        page = self.get("/desk/sign-in")
        return self.submit(page, {"email": self.email, "passphrase": passphrase,
                                  "code": code if code is not None else code_now(self.secret, shift)})

    def open_case(self, reason="call") -> tuple[int, Page]:
        home = self.get("/desk/")
        page = self.submit(home, {"reason": reason})
        case_id = int(re.search(r"/desk/cases/(\d+)/identify", page.url).group(1))
        return case_id, page

    def identify(self, holder, page) -> Page:
        return self.submit(page, holder.form())


@pytest.fixture
def member(app):
    """member(role) -> a Desk for a new enrolled member of staff of that role, signed out."""
    made = iter(range(1000))

    def make(role="agent", name=None, lang="en"):
        i = next(made)
        email = f"{role}{i}@staff.example"
        with app.app_context():
            staff.enrol_demo(email, role, name or f"{role.title()} {i}", PASSPHRASE, SECRETS[role])
            from app.models import Staff, db
            db.session.execute(db.update(Staff).where(Staff.email == email).values(demo=False))
            db.session.commit()
        return Desk(app.test_client(), lang, email, SECRETS[role])
    return make
