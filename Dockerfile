# Production image: gunicorn serves the app, whitenoise its static files.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --create-home --uid 10001 clinic

COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
# The translations are compiled here (Babel, from requirements.txt; no GNU gettext).
RUN pybabel compile -d locale -D django --statistics
# Static files are collected at build time; the key and the e-mail backend below
# only let settings load (collectstatic sends nothing).
RUN DEBUG=false \
    SECRET_KEY=collectstatic-at-build-time-only-this-is-not-a-secret-key-0000 \
    EMAIL_BACKEND=django.core.mail.backends.dummy.EmailBackend \
    python manage.py collectstatic --noinput \
 && mkdir -p /app/private-media && chown clinic /app/private-media

USER clinic
EXPOSE 8000
# Forwarded headers are trusted only from FORWARDED_ALLOW_IPS (gunicorn's own variable;
# docker-compose.yml sets the proxy's address), by default from nobody but localhost.
CMD ["gunicorn", "clinic.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--access-logfile", "-"]
