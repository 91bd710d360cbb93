# Atelier's application image (the scaled deployment of docker-compose.yml): web, workers, beat.

# The canvas bundle, built from frontend/ exactly as `make install` builds it.
FROM node:20-slim AS frontend
WORKDIR /build/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY frontend/ ./
RUN npm run build --silent

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 ATELIER_DATA_DIR=/data
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
COPY --from=frontend /build/static/atelier/ static/atelier/
RUN DJANGO_SECRET_KEY=build-only python manage.py collectstatic --no-input --verbosity 0
RUN useradd --create-home atelier && mkdir -p /data && chown atelier /data
USER atelier
EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "designer.asgi:application"]
