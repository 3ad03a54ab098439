FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN apt-get update && apt-get install -y --no-install-recommends curl gettext && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Runtime requirements only: no test or lint tools in the production image (requirements-dev.txt).
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN SECRET_KEY=build-only-secret-key-build-only-secret-key-build-only python manage.py collectstatic --noinput
RUN useradd --system hotline && mkdir -p /app/var && chown -R hotline /app/var
USER hotline
EXPOSE 8000
