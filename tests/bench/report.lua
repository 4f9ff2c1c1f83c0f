-- wrk script: POST /api/v1/reports, each request a distinct report.
--
--   wrk -t2 -c64 -d10s -s tests/bench/report.lua http://127.0.0.1:PORT/api/v1/reports
--
-- The description is 300 to 2000 characters of plausible text that starts
-- with the thread, a counter and 64 random bits, so no two requests are
-- alike; the optional fields (language, role, wish, date, place,
-- municipalities, grounds, domain, manifestation, counterparty and, for
-- about a third, contact details) are present at random.  Answers other
-- than 201 are counted and shown (count.lua).  With BENCH_TOKENS=PREFIX in
-- the environment, each thread appends the token of every 201 answer to
-- the file PREFIX.<thread>, flushed at once (the bench's kill check).

local here = string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./"
expect = 201
dofile(here .. "count.lua")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local words = {
	"de", "het", "een", "en", "van", "ik", "werd", "bij", "de", "ingang", "van", "de", "club",
	"tegengehouden", "omdat", "volgens", "de", "portier", "mensen", "zoals", "ik", "daar", "niet",
	"welkom", "waren", "mijn", "vrienden", "mochten", "wel", "naar", "binnen", "het", "gebeurde",
	"op", "zaterdagavond", "rond", "elf", "uur", "er", "stonden", "meer", "mensen", "in", "de",
	"rij", "die", "het", "hebben", "gezien", "de", "verhuurder", "zei", "aan", "de", "telefoon",
	"dat", "de", "woning", "al", "verhuurd", "was", "maar", "een", "collega", "kreeg", "een",
	"dag", "later", "wel", "een", "afspraak", "voor", "een", "bezichtiging", "op", "mijn", "werk",
	"maakt", "mijn", "leidinggevende", "steeds", "opmerkingen", "over", "mijn", "hoofddoek",
	"en", "krijg", "ik", "minder", "diensten", "dan", "mijn", "collega", "s", "in", "de", "bus",
	"werd", "ik", "uitgescholden", "en", "niemand", "deed", "iets", "de", "chauffeur", "reed",
	"gewoon", "door", "ik", "wil", "graag", "dat", "dit", "wordt", "geregistreerd", "zodat", "het",
	"meetelt", "ik", "weet", "niet", "goed", "wat", "ik", "nu", "moet", "doen", "en", "zou",
	"graag", "advies", "krijgen", "mijn", "zoon", "wordt", "op", "school", "gepest", "vanwege",
	"zijn", "afkomst", "en", "de", "leraar", "grijpt", "niet", "in", "bij", "de", "sportclub",
	"mocht", "mijn", "dochter", "niet", "meedoen", "aan", "de", "wedstrijd", "in", "de",
	"winkel", "werd", "ik", "de", "hele", "tijd", "gevolgd", "door", "een", "beveiliger",
	"terwijl", "andere", "klanten", "gewoon", "konden", "rondlopen", "de", "buren", "hangen",
	"briefjes", "op", "met", "beledigende", "teksten", "over", "onze", "familie",
}
local places = { "Stationsplein", "Breestraat", "Haarlemmerstraat", "Lammenschansweg",
	"Morsweg", "Hooigracht", "Rijnsburgerweg", "Vondellaan", "Kanaalpark", "Stevenshof" }
local languages = { "nl", "nl", "nl", "nl", "en", "en", "pl", "tr", "uk", "ar" }
local roles = { "victim", "witness", "professional" }
local wishes = { "register", "advice", "assistance" }
local grounds = { "origin", "antisemitism", "religion", "belief", "political", "sex",
	"sexual_orientation", "disability", "age", "nationality", "marital_status",
	"working_hours", "contract_type", "other", "unknown" }
local domains = { "labour_market", "neighbourhood", "public_services", "commercial_services",
	"hospitality", "housing", "media", "education", "public_space", "police",
	"public_opinion", "private_sphere", "sport", "other", "not_applicable" }
local manifestations = { "unequal_treatment", "hostile_treatment", "remark", "threat",
	"violence", "vandalism", "harassment", "refusal", "other" }
local municipalities = { "leiden", "leiderdorp", "oegstgeest", "zoeterwoude", "voorschoten",
	"katwijk", "noordwijk", "teylingen", "hillegom", "lisse", "kaag_en_braassem", "nieuwkoop",
	"alphen_aan_den_rijn", "elsewhere", "unknown" }
local names = { "Sam de Vries", "Fatima El Amrani", "Piotr Nowak", "Ayse Yilmaz", "Olena Koval",
	"Jan Jansen", "Noor Bakker", "Mohamed Ait", "Lisa van Dijk", "Daan Visser" }

local pool, year, counter, tokens
local function pick(t) return t[math.random(#t)] end

function bench_init(thread)
	-- A long run of words to cut descriptions from; cutting at spaces keeps them whole.
	local w = {}
	for i = 1, 1400 do w[i] = pick(words) end
	pool = table.concat(w, " ")
	year = tonumber(os.date("%Y")) - 1
	counter = 0
	local prefix = os.getenv("BENCH_TOKENS")
	if prefix and prefix ~= "" then
		tokens = assert(io.open(prefix .. "." .. thread, "a"))
	end
end

local function description()
	local len = math.random(300, 1980)
	local s = string.find(pool, " ", math.random(1, #pool - 2100), true) + 1
	local e = string.find(pool, " ", s + len - 40, true) - 1
	counter = counter + 1
	return string.format("Melding %d-%d %04x%04x%04x%04x: %s.", id, counter,
		math.random(0, 65535), math.random(0, 65535), math.random(0, 65535),
		math.random(0, 65535), string.sub(pool, s, e))
end

function request()
	local f = { '{"description":"' .. description() .. '"' }
	if math.random() < 0.8 then f[#f + 1] = '"language":"' .. pick(languages) .. '"' end
	if math.random() < 0.6 then f[#f + 1] = '"role":"' .. pick(roles) .. '"' end
	if math.random() < 0.6 then f[#f + 1] = '"wish":"' .. pick(wishes) .. '"' end
	if math.random() < 0.5 then
		f[#f + 1] = string.format('"occurred_on":"%d-%02d-%02d"', year, math.random(12),
			math.random(28))
	end
	if math.random() < 0.4 then
		f[#f + 1] = '"location":"' .. pick(places) .. " " .. math.random(1, 200) .. '"'
	end
	if math.random() < 0.5 then f[#f + 1] = '"incident_municipality":"' .. pick(municipalities) .. '"' end
	if math.random() < 0.3 then f[#f + 1] = '"residence_municipality":"' .. pick(municipalities) .. '"' end
	if math.random() < 0.5 then
		local a, b = pick(grounds), pick(grounds)
		f[#f + 1] = a == b and '"grounds":["' .. a .. '"]' or '"grounds":["' .. a .. '","' .. b .. '"]'
	end
	if math.random() < 0.4 then f[#f + 1] = '"domain":"' .. pick(domains) .. '"' end
	if math.random() < 0.4 then f[#f + 1] = '"manifestation":"' .. pick(manifestations) .. '"' end
	if math.random() < 0.2 then f[#f + 1] = '"counterparty":"portier van ' .. pick(places) .. '"' end
	if math.random() < 0.33 then
		local n = pick(names)
		if math.random() < 0.5 then
			f[#f + 1] = string.format('"contact":{"name":"%s","email":"%s@example.org","preferred":"email"}',
				n, string.lower(string.gsub(n, " ", ".")))
		else
			f[#f + 1] = string.format('"contact":{"name":"%s","phone":"+31 6 %08d","preferred":"phone"}',
				n, math.random(0, 99999999))
		end
	end
	sent = sent + 1
	return wrk.format(nil, nil, nil, table.concat(f, ",") .. "}")
end

function bench_response(status, body)
	if tokens and status == 201 then
		local t = string.match(body, '"token":"([%w%-]+)"')
		if t then
			tokens:write(t, "\n")
			tokens:flush()
		end
	end
end
