# The gongkai API image: `docker compose up` builds it (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY api ./api
COPY schema ./schema
COPY publishers ./publishers
COPY storage ./storage
RUN pip install . && useradd --system --uid 10001 gongkai
USER gongkai

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"
CMD ["sh", "-c", "gongkai migrate && gongkai serve --host 0.0.0.0 --port 8000"]
