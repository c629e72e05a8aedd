/* Urgent words, with the real catalogs: each word of the four lists in a
 * base and an inflected form is caught, words that are too broad alone
 * count only in their phrases, and everyday messages to a counsellor in
 * each language are not caught. Texts go through words_fold and urgent_is,
 * the router's path. The matcher itself is tested on hand-written items. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/handler.h"
#include "locales/locale.h"
#include "locales/patterns.h"

#define FOLD_CAP (16 * 1024 + 1)

static int setup(void **state)
{
	struct locales *loc = NULL;
	char err[512];

	if (locale_load(CASEBOT_LOCALES_DIR, &loc, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	*state = loc;
	return 0;
}

static int teardown(void **state)
{
	locale_free(*state);
	return 0;
}

static int is_urgent(const struct locales *loc, const char *text)
{
	static char folded[FOLD_CAP];

	assert_int_equal(words_fold(text, folded, sizeof(folded)), 0);
	return urgent_is(loc, folded);
}

static void expect(const struct locales *loc, const char *const *texts, size_t n, int want)
{
	size_t bad = 0;

	for (size_t i = 0; i < n; i++) {
		if (is_urgent(loc, texts[i]) == want)
			continue;
		fprintf(stderr, "%s urgent: \"%s\"\n", want ? "not" : "wrongly", texts[i]);
		bad++;
	}
	assert_int_equal(bad, 0);
}

#define EXPECT(loc, texts, want) expect((loc), (texts), CB_ARRAY_SIZE(texts), (want))

/* The words families wrote that were missed, each with an inflected form. */
static const char *const reported[] = {
	"they want to deport us", "my brother was deported yesterday",
	"hij zit in detentie", "het detentiecentrum belde",
	"mijn man is opgesloten", "ze willen ons opsluiten",
	"Mein Mann ist in Abschiebehaft", "Sie wollen uns abschieben",
	"Er wurde ausgewiesen", "die ausgewiesenen Familien",
	"ils veulent nous expulser", "mon fils a été expulsé",
	"the cops are outside", "a cop asked for my papers",
	"we moeten het land verlaten", "hij zegt dat ik het land verlaat",
	"Wir müssen das Land verlassen", "Er verlässt das Land morgen",
	"on doit quitter la Belgique", "il quitte la Belgique demain",
};

static void test_reported_words(void **state)
{
	EXPECT(*state, reported, 1);
}

static const char *const words_en[] = {
	"POLICE!", "two policemen at the door", "the cops", "a cop",
	"they arrest people here", "my husband was arrested", "he is in handcuffs",
	"they handcuffed him", "she was detained", "they detain families",
	"he is in detention", "the detention centre called", "taken into custody",
	"he is in jail", "jailed for a week", "my son is in prison", "imprisoned",
	"a closed centre", "closed centers", "they will deport her", "deportation order",
	"expulsion", "repatriation flight", "they repatriated him", "a forced return",
	"an order to leave", "orders to leave the territory", "we must leave Belgium",
	"we are leaving the country", "the immigration office", "immigration officers came",
	"they put us on a plane", "putting him on a flight", "I think about suicide",
	"suicidal", "I want to kill myself", "end my life", "self-harm", "I hurt myself",
	"he hits me", "they beat us", "domestic violence", "we are in danger",
	"taken into detention", "detention centers", "held in immigration detention", "in custody", "expulsions", "forced removal", "he wants to kill himself", "ending my life", "self-harming", "I want to harm myself",
	"call an ambulance", "two ambulances came", "he is unconscious", "an overdose", "she overdosed", "he threatened me", "threats against us", "he abused her", "an abusive man",
};

static void test_words_en(void **state)
{
	EXPECT(*state, words_en, 1);
}

static const char *const words_nl[] = {
	"de politie", "de POLITIE staat aan de deur", "een politieagent", "het politiekantoor",
	"de wijkpolitie kwam", "een flik", "de flikken", "de wijkagent", "wijkagenten",
	"er staat een agent aan de deur", "aan de deur stonden twee agenten",
	"agenten kwamen binnen", "de agent wilde mijn papieren", "arrestatie", "ze arresteren hem",
	"hij is gearresteerd", "zij werd gearresteerd", "ze hebben ons opgepakt",
	"hij is aangehouden", "een aanhouding", "in handboeien", "ze hebben hem vastgezet",
	"detentie", "detentiecentrum", "opgesloten", "opsluiting", "gesloten centrum",
	"gesloten centra", "de gevangenis", "hij zit in de cel", "uitwijzing", "ze willen ons uitwijzen",
	"uitgewezen", "uitgewezenen", "deportatie", "gedeporteerd", "repatriëring",
	"ze hebben hem gerepatrieerd", "woonunit", "de woonunits", "terugkeerwoning",
	"een bevel om het grondgebied te verlaten", "bevelen om het grondgebied", "BGV", "de DVZ",
	"Dienst Vreemdelingenzaken", "we moeten België verlaten", "hij verliet het land",
	"het vliegtuig terug", "ze zetten ons op het vliegtuig", "op het vliegtuig gezet",
	"zelfmoord", "zelfmoordgedachten", "ik wil mezelf iets aandoen", "hij slaat me",
	"hij heeft me geslagen", "geweld", "gewelddadig", "we zijn in gevaar",
	"in huis waren agenten", "de gearresteerde mannen", "aanhoudingen", "een handboei", "gevangenissen", "gedeporteerde families", "terugkeerwoningen", "de vreemdelingenzaak", "we verlaten België morgen", "ze willen ons in het vliegtuig zetten", "hij zet ons op het vliegtuig", "hij wil zichzelf ombrengen", "hij sloeg ons", "ze hebben mij geslagen",
	"de D.V.Z. belde", "een B.G.V.", "bel een ambulance", "de ambulances", "op de spoedgevallen", "spoedopname", "hij is bewusteloos", "een overdosis", "ze hebben ons bedreigd", "een bedreiging", "mijn kind is mishandeld", "mishandeling",
};

static void test_words_nl(void **state)
{
	EXPECT(*state, words_nl, 1);
}

static const char *const words_fr[] = {
	"la police", "les policiers", "une policière", "les flics", "un flic", "les keufs",
	"les gendarmes", "la gendarmerie", "au commissariat", "une arrestation", "des arrestations",
	"il a été interpellé", "interpellée ce matin", "mon mari a été arrêté",
	"elles ont été arrêtées", "ils l'ont arrêté", "ils m’ont arrêtée", "il s'est fait arrêter",
	"menotté", "les menottes", "en garde à vue", "le centre fermé", "les centres fermés",
	"un centre de détention", "il est en détention", "la détention administrative", "il est détenu",
	"détenues", "en prison", "emprisonné", "on est enfermés", "expulser", "expulsion", "expulsée",
	"déporté", "déportation", "rapatrié", "le rapatriement", "un retour forcé", "un OQT", "l'OQTF",
	"l'OE a écrit", "l'Office des étrangers", "un ordre de quitter le territoire",
	"des ordres de quitter", "quitter la Belgique", "quittez immédiatement la Belgique",
	"quitter le territoire", "quitter le pays", "la maison de retour", "les maisons de retour",
	"ils veulent nous mettre dans un avion", "mis dans l'avion", "renvoyés dans notre pays",
	"je pense au suicide", "me suicider", "je vais me tuer", "me faire du mal",
	"il me frappe", "il m'a frappée", "des violences", "nous sommes en danger",
	"un keuf", "les commissariats", "on va se faire arrêter", "les centres de détention", "ils nous ont enfermées", "des retours forcés", "quittez le pays", "ils veulent nous renvoyer au pays", "il nous frappait", "il m'a frappé",
	"un O.Q.T.", "l'O.E. a appelé", "appelez une ambulance", "les ambulances", "il est aux urgences", "il est sans connaissance", "une overdose", "des overdoses", "il m'a menacée", "des menaces", "maltraitée", "la maltraitance",
};

static void test_words_fr(void **state)
{
	EXPECT(*state, words_fr, 1);
}

static const char *const words_de[] = {
	"die Polizei", "Polizeikontrolle am Bahnhof", "die Bundespolizei", "ein Polizist",
	"zwei Polizistinnen", "er wurde festgenommen", "die Festnahme",
	"verhaftet", "die Verhaftung", "inhaftiert", "ein Haftbefehl", "in Handschellen",
	"er ist in Haft", "Untersuchungshaft", "Abschiebungshaft", "Ausreisehaft", "in Gewahrsam",
	"die Gewahrsamseinrichtung", "geschlossenes Zentrum", "im geschlossenen Zentrum",
	"das Gefängnis", "Gefaengnis", "wir sind eingesperrt", "Abschiebung", "Abschiebehaft",
	"abschieben", "abgeschoben", "Ausweisung", "Ausweisungsbescheid", "ausgewiesen",
	"deportiert", "ein Ausreisebefehl", "ausreisepflichtig", "Anweisung, das Staatsgebiet zu verlassen",
	"Wir müssen das Land verlassen", "Ich muss Belgien verlassen", "er verließ das Land",
	"das Ausländeramt", "Auslaenderamt", "die Ausländerbehörde", "die Rückführung",
	"Rueckfuehrung", "die Rückkehrwohnung", "sie wollen uns ins Flugzeug setzen",
	"Selbstmord", "Selbstmordgedanken", "Suizid", "ich will mich umbringen", "er schlägt mich",
	"er hat mich geschlagen", "Gewalt", "häusliche Gewalt", "wir sind in Gefahr",
	"Festnahmen", "sie wollen ihn festnehmen", "die Inhaftierung", "Haftbefehle", "eine Handschelle", "die abgeschobenen Familien", "des Ausreisebefehls", "ausreisepflichtige Familien", "Rueckkehrwohnungen", "in ein Flugzeug gesetzt", "suizidgefährdet", "sie wollen uns töten", "er schlug uns", "sie haben uns geschlagen", "gewalttätig",
	"ein Krankenwagen", "der Rettungswagen kam", "in der Notaufnahme", "der Notarzt", "die Notärztin", "er ist bewusstlos", "eine bewusstlose Frau", "eine Überdosis", "Ueberdosis", "wir werden bedroht", "die Bedrohung", "misshandelt", "Misshandlung",
};

static void test_words_de(void **state)
{
	EXPECT(*state, words_de, 1);
}

/* Every item of every list has an example above, and a stem or a set of
 * alternatives two different forms: a word added to a catalog comes with
 * its test. Each item is matched alone, with all the exclusions. */
static void test_every_item_has_examples(void **state)
{
	static const struct {
		const char *const *texts;
		size_t n;
	} tables[] = {
		{reported, CB_ARRAY_SIZE(reported)}, {words_en, CB_ARRAY_SIZE(words_en)},
		{words_nl, CB_ARRAY_SIZE(words_nl)}, {words_fr, CB_ARRAY_SIZE(words_fr)},
		{words_de, CB_ARRAY_SIZE(words_de)},
	};
	static char folded[FOLD_CAP];
	const struct locales *loc = *state;
	size_t bad = 0;

	for (int l = 0; l < LANG_COUNT; l++) {
		const char *const *items;
		size_t n = locale_list(loc, (enum lang)l, "words.urgent", &items);

		for (size_t i = 0; i < n; i++) {
			struct patterns *p;
			char why[256], forms[2][64] = {"", ""};
			size_t nforms = 0, want = strpbrk(items[i], "*|") != NULL ? 2 : 1;

			assert_int_equal(patterns_new(&p), 0);
			assert_int_equal(patterns_add(p, items[i], l, 0, why, sizeof(why)), 0);
			for (int x = 0; x < LANG_COUNT; x++) {
				const char *const *not;
				size_t nn = locale_list(loc, (enum lang)x, "words.urgent_not", &not);

				for (size_t j = 0; j < nn; j++)
					assert_int_equal(patterns_add(p, not[j], x, 1, why, sizeof(why)), 0);
			}
			for (size_t t = 0; t < CB_ARRAY_SIZE(tables) && nforms < want; t++) {
				for (size_t k = 0; k < tables[t].n && nforms < want; k++) {
					struct patterns_hit hit;

					assert_int_equal(words_fold(tables[t].texts[k], folded, sizeof(folded)), 0);
					if (patterns_match(p, folded, &hit) != 1)
						continue;
					snprintf(forms[nforms], sizeof(forms[nforms]), "%.*s", (int)hit.len, folded + hit.off);
					if (nforms == 0 || strcmp(forms[0], forms[1]) != 0)
						nforms++;
				}
			}
			if (nforms < want) {
				fprintf(stderr, "%s.json: \"%s\": %zu of %zu forms in the examples\n",
					lang_code((enum lang)l), items[i], nforms, want);
				bad++;
			}
			patterns_free(p);
		}
	}
	assert_int_equal(bad, 0);
}

/* Words that are everyday words alone count only in a phrase: "agent" is
 * a travel or insurance agent, "avion" a holiday, "detention" a school
 * punishment, "arrêter" is to stop. */
static void test_broad_words_restricted(void **state)
{
	static const char *const alone[] = {
		"de agent van het reisbureau belt je", "mijn verzekeringsagent", "L'agent du CPAS m'a appelé",
		"the travel agent", "On a pris l'avion pour Noël", "un avion dans le ciel",
		"my son has detention after school", "he got detention", "J'arrête le travail à 17h",
		"Le bus s'arrête devant l'école", "Arrête de pleurer", "Il s'est arrêté de pleuvoir",
		"On a arrêté de manger du sucre", "het vliegtuig was laat",
	};
	static const char *const together[] = {
		"er staat een agent aan de deur", "un agent de police", "ils veulent nous mettre dans un avion",
		"he is in detention", "mon frère a été arrêté", "het vliegtuig terug naar Marokko",
	};

	EXPECT(*state, alone, 0);
	EXPECT(*state, together, 1);
}

/* Families mix languages: every list is matched against every text. */
static void test_mixed_languages(void **state)
{
	static const char *const texts[] = {
		"Hallo, de police is hier", "Bonjour, mijn man is gearresteerd", "Hello, Abschiebung morgen",
		"Die polizie... sorry, la police est venue", "ok merci, the cops came",
	};

	EXPECT(*state, texts, 1);
}

static void test_everyday_en(void **state)
{
	static const char *const texts[] = {
		"Hello, can we move the appointment to Thursday?", "My son is sick, he stays home from school today",
		"The doctor gave me a medical certificate", "I will send the school attestation tomorrow",
		"The bus was late, I am on my way", "Thank you very much for your help",
		"It is raining a lot today", "I bought shoes for the children",
		"Where do I send the copy of my passport?", "The lawyer letter arrived this morning",
		"My daughter has a swimming lesson at four", "Can you call me after lunch?",
		"I lost my identity card, what do I do?", "We are at the supermarket now",
		"The school trip is on Friday", "I read the policy of the housing office",
		"My phone battery is almost empty", "The meeting at the CPAS went well",
		"Happy new year to you and your family", "I have a headache but I am fine",
		"My son has detention on Tuesday for being late", "We left our country two years ago",
		"I will leave the house at nine", "The heart of the city is beautiful",
	};

	EXPECT(*state, texts, 0);
}

static void test_everyday_nl(void **state)
{
	static const char *const texts[] = {
		"Hallo, kan de afspraak naar donderdag?", "Mijn zoon is ziek, hij blijft thuis van school",
		"Ik heb morgen een afspraak bij de dokter", "Het schoolattest stuur ik morgen",
		"De bus was te laat, ik kom eraan", "Geweldig, bedankt voor alles!",
		"Het regent vandaag heel veel", "Ik heb schoenen gekocht voor de kinderen",
		"Waar moet ik de kopie van mijn paspoort sturen?", "We spraken over politiek",
		"De school is morgen gesloten, het centrum ook", "Ik verlang naar mijn land",
		"Mijn verzekeringsagent belt morgen", "Wij zijn nu in de winkel",
		"De huurcontract is getekend", "Mijn dochter heeft zwemles om vier uur",
		"Kun je me na de middag bellen?", "De politieke situatie in mijn land is moeilijk",
		"Gelukkig nieuwjaar voor jou en je familie", "Ik heb hoofdpijn maar het gaat",
		"Het OCMW heeft de loonfiche gekregen", "De agenda voor volgende week is klaar",
	};

	EXPECT(*state, texts, 0);
}

static void test_everyday_fr(void **state)
{
	static const char *const texts[] = {
		"Bonjour, on peut déplacer le rendez-vous à jeudi ?", "Mon fils est malade, il reste à la maison",
		"Le médecin m'a donné un certificat médical", "J'envoie l'attestation scolaire demain",
		"Le bus était en retard, j'arrive", "Merci beaucoup pour votre aide",
		"Il y a un vent violent aujourd'hui", "J'ai acheté des chaussures pour les enfants",
		"Où dois-je envoyer la copie de mon passeport ?", "Ma police d'assurance est arrivée",
		"Le centre est fermé le lundi", "J'arrête le travail à 17h",
		"Le bus s'arrête devant l'école", "L'agent du CPAS m'a appelé",
		"On a pris l'avion pour les vacances l'an dernier", "Ma fille a piscine à quatre heures",
		"Pouvez-vous m'appeler après midi ?", "Je dois renvoyer le formulaire signé",
		"Bonne année à vous et à votre famille", "J'ai mal à la tête mais ça va",
		"J'ai regardé un film policier hier soir", "On va quitter la maison à neuf heures",
		"Rendez-vous au Commissariat général la semaine prochaine",
	};

	EXPECT(*state, texts, 0);
}

static void test_everyday_de(void **state)
{
	static const char *const texts[] = {
		"Hallo, können wir den Termin auf Donnerstag verschieben?", "Mein Sohn ist krank, er bleibt zu Hause",
		"Der Arzt hat mir ein ärztliches Attest gegeben", "Die Schulbescheinigung schicke ich morgen",
		"Der Bus hatte Verspätung, ich komme gleich", "Vielen Dank für Ihre Hilfe",
		"Heute regnet es sehr stark", "Ich habe Schuhe für die Kinder gekauft",
		"Ich habe meinen Ausweis verloren", "Wohin schicke ich die Kopie meines Reisepasses?",
		"Das Zentrum ist heute geschlossen", "Ich verlasse mich auf Sie",
		"Wir fahren am Wochenende aufs Land", "Die Botschaft hat angerufen",
		"Das war ernsthaft schwierig, aber es geht", "Der Mietvertrag ist unterschrieben",
		"Meine Tochter hat um vier Uhr Schwimmen", "Können Sie mich nach dem Mittag anrufen?",
		"Frohes neues Jahr für Sie und Ihre Familie", "Ich habe Kopfschmerzen, aber es geht",
		"Das Konzert war gewaltig", "Ich brauche ein polizeiliches Führungszeugnis für die Arbeit",
		"Unsere Nachbarschaft ist sehr freundlich",
	};

	EXPECT(*state, texts, 0);
}

/* The longest text a family can send: a word at its very end is found,
 * and a text without one is not caught. */
static void test_longest_text(void **state)
{
	static char text[16 * 1024 + 1];
	const char *fill = "the bus is late again today and the school is closed ";
	size_t n = 0, fl = strlen(fill);

	while (n + fl < sizeof(text) - 32) {
		memcpy(text + n, fill, fl);
		n += fl;
	}
	text[n] = '\0';
	assert_false(is_urgent(*state, text));
	snprintf(text + n, sizeof(text) - n, "politie");
	assert_true(is_urgent(*state, text));
}

static struct patterns *build(const char *const *items, size_t n, const char *const *not, size_t nnot)
{
	struct patterns *p;
	char why[256];

	assert_int_equal(patterns_new(&p), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(patterns_add(p, items[i], (int)i, 0, why, sizeof(why)), 0);
	for (size_t i = 0; i < nnot; i++)
		assert_int_equal(patterns_add(p, not[i], 0, 1, why, sizeof(why)), 0);
	return p;
}

/* Stems, suffixes, compounds, alternatives, gaps and exclusions. */
static void test_patterns_forms(void **state)
{
	static const char *const items[] = {"exact", "stem*", "*suffix", "*inside*", "one|twofo*|*three",
					    "near ... far", "next door"};
	static const char *const not[] = {"stemless", "not inside"};
	struct patterns *p = build(items, CB_ARRAY_SIZE(items), not, CB_ARRAY_SIZE(not));
	static const struct {
		const char *text;
		int want, tag;
	} cases[] = {
		{"an exact word", 1, 0}, {"exactly", 0, 0}, {"inexact", 0, 0},
		{"stem", 1, 1}, {"stems and more", 1, 1}, {"a system", 0, 0}, {"stemless", 0, 0},
		{"a suffix", 1, 2}, {"thesuffix", 1, 2}, {"suffixes", 0, 0},
		{"inside", 1, 3}, {"theinsidestory", 1, 3}, {"insid", 0, 0}, {"not inside", 0, 0},
		{"one", 1, 4}, {"twofold", 1, 4}, {"threethree", 1, 4}, {"onee", 0, 0},
		{"near far", 1, 5}, {"near a b c far", 1, 5}, {"near a b c d far", 0, 0}, {"far near", 0, 0},
		{"next door", 1, 6}, {"next big door", 0, 0}, {"door next", 0, 0},
		{"l'exact", 1, 0}, {"«stem»", 1, 1}, {"\xe2\x80\x9cone\xe2\x80\x9d", 1, 4}, {"", 0, 0},
	};

	(void)state;
	for (size_t i = 0; i < CB_ARRAY_SIZE(cases); i++) {
		struct patterns_hit hit = {0};
		int rc = patterns_match(p, cases[i].text, &hit);

		if (rc != cases[i].want)
			fail_msg("\"%s\": %d, want %d", cases[i].text, rc, cases[i].want);
		if (rc == 1) {
			assert_int_equal(hit.tag, cases[i].tag);
			assert_string_equal(hit.item, items[cases[i].tag]);
		}
	}
	patterns_free(p);
}

/* The hit says where the words stand, gap included. */
static void test_patterns_hit(void **state)
{
	static const char *const items[] = {"near ... far"};
	struct patterns *p = build(items, 1, NULL, 0);
	struct patterns_hit hit;
	const char *text = "so near to the far end";

	(void)state;
	assert_int_equal(patterns_match(p, text, &hit), 1);
	assert_int_equal(hit.off, 3);
	assert_int_equal(hit.len, strlen("near to the far"));
	patterns_free(p);
}

static void test_patterns_refused(void **state)
{
	static const struct {
		const char *item;
		int exclude;
		const char *why;
	} cases[] = {
		{"abc*", 0, "too short"}, {"*abcd*", 0, "too short"}, {"*", 0, "empty alternative"},
		{"one||two", 0, "empty alternative"}, {"one  two", 0, "empty word"}, {" one", 0, "empty word"},
		{"... one", 0, "only between"}, {"one ...", 0, "only between"}, {"one ... ... two", 0, "only between"},
		{"one ... two", 1, "only between"}, {"a b c d e f g", 0, "more than 6 words"},
		{"d'accord", 0, "not a letter"}, {"Police", 0, "not a letter"}, {"po*lice", 0, "not a letter"},
	};

	(void)state;
	for (size_t i = 0; i < CB_ARRAY_SIZE(cases); i++) {
		struct patterns *p;
		char why[256] = "";

		assert_int_equal(patterns_new(&p), 0);
		assert_int_equal(patterns_add(p, cases[i].item, 0, cases[i].exclude, why, sizeof(why)), -CB_ECONFIG);
		if (strstr(why, cases[i].why) == NULL)
			fail_msg("\"%s\": \"%s\" lacks \"%s\"", cases[i].item, why, cases[i].why);
		assert_int_equal(patterns_match(p, "one two abcdef", NULL), 0);
		patterns_free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reported_words, setup, teardown),
		cmocka_unit_test_setup_teardown(test_words_en, setup, teardown),
		cmocka_unit_test_setup_teardown(test_words_nl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_words_fr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_words_de, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_item_has_examples, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broad_words_restricted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mixed_languages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_everyday_en, setup, teardown),
		cmocka_unit_test_setup_teardown(test_everyday_nl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_everyday_fr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_everyday_de, setup, teardown),
		cmocka_unit_test_setup_teardown(test_longest_text, setup, teardown),
		cmocka_unit_test(test_patterns_forms),
		cmocka_unit_test(test_patterns_hit),
		cmocka_unit_test(test_patterns_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
