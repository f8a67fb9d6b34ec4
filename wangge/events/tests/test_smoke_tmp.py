from wangge.core.models import User
from wangge.core.scope import scope_for
from wangge.events.workflow import transition
from wangge.events.scan import scan
import datetime as dt


def test_smoke(report, db):
    ev = report(category="0101")
    print(ev.status, ev.due_at, ev.grid_code)
    street = scope_for(User.objects.get(username="demo-street"))
    ev = transition(street, ev, "dispatch")
    print(ev.status, ev.department_code, ev.handle_due_at)
    dept = scope_for(User.objects.get(username="demo-dept"))
    ev = transition(dept, ev, "handle")
    ev = transition(dept, ev, "report")
    grid = scope_for(User.objects.get(username="demo-grid"))
    ev = transition(grid, ev, "verify", passed=True)
    ev = transition(street, ev, "close")
    print(ev.status, ev.close_kind, ev.on_time)
    ev2 = report(category="0102")
    r = scan(ev2.due_at + dt.timedelta(minutes=1))
    print(r, scan(ev2.due_at + dt.timedelta(minutes=1)))
