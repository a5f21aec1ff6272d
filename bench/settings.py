"""The production settings (read from the environment, as ``clinic.settings`` does)
plus two things only the benchmark needs: the floor view's URL, and a response
header counting the database queries each request made."""

from clinic.settings import *  # noqa: F403
from clinic.settings import MIDDLEWARE

ROOT_URLCONF = "bench.urls"
# Outermost, so the queries of every other middleware count too.
MIDDLEWARE = ["bench.middleware.QueryCountMiddleware", *MIDDLEWARE]
