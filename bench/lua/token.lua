-- POST /oauth2/token (client credentials); the Authorization header comes from wrk -H
wrk.method = "POST"
wrk.body = "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
