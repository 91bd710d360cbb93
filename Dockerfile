# Atelier's application image (the scaled deployment of docker-compose.yml).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 ATELIER_DATA_DIR=/data
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN DJANGO_SECRET_KEY=build-only python manage.py collectstatic --no-input --verbosity 0
RUN useradd --create-home atelier && mkdir -p /data && chown atelier /data
USER atelier
EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "designer.asgi:application"]
