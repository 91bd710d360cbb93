# Atelier's application image (the scaled deployment of docker-compose.yml).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 ATELIER_DATA_DIR=/data
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN useradd --create-home atelier && mkdir -p /data && chown atelier /data
USER atelier
CMD ["python", "manage.py", "migrate"]
