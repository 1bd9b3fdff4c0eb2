FROM python:3.11-slim-bookworm
# WeasyPrint's libraries and the fonts the PDFs are drawn with.
RUN apt-get update && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir "setuptools<81" wheel \
    && pip install --no-cache-dir --no-build-isolation -r requirements.txt
COPY . .
RUN DEBUG=true python manage.py collectstatic --noinput
ENV PYTHONUNBUFFERED=1
USER nobody
