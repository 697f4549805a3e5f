# phpeekd as the entry point of a PHP container: PHP-FPM and nginx from
# Debian, the Laravel preset, the application mounted or copied into
# /var/www/html.
#
#	docker build -t app .
#	docker run -v $PWD/laravel:/var/www/html -p 80:80 app

FROM debian:bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
	gcc make pkg-config libevent-dev libyaml-dev libbsd-dev \
	libjson-c-dev libcurl4-openssl-dev libseccomp-dev \
	&& rm -rf /var/lib/apt/lists/*
COPY . /src
RUN make -C /src && make -C /src install DESTDIR=/out PREFIX=/usr/local

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
	php-fpm php-cli nginx ca-certificates \
	libevent-2.1-7 libevent-openssl-2.1-7 libyaml-0-2 libbsd0 \
	libjson-c5 libcurl4 libseccomp2 \
	&& rm -rf /var/lib/apt/lists/* \
	&& mkdir -p /run/php /etc/phpeek-pm /var/www/html/public
COPY --from=build /out/ /
COPY share/docker/www.conf /etc/php/8.2/fpm/pool.d/www.conf
COPY share/docker/nginx.conf /etc/nginx/nginx.conf
COPY share/docker/phpeek-pm.yaml /etc/phpeek-pm/phpeek-pm.yaml
WORKDIR /var/www/html
EXPOSE 80 9090
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
	CMD ["/usr/local/sbin/phpeekctl", "check"]
ENTRYPOINT ["/usr/local/sbin/phpeekd"]
CMD ["-f", "/etc/phpeek-pm/phpeek-pm.yaml"]
