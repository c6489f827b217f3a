"""Word lists the demo generator draws from."""

FIRST_NAMES_F = (
    "Giulia",
    "Francesca",
    "Chiara",
    "Sara",
    "Martina",
    "Valentina",
    "Alessia",
    "Elena",
    "Federica",
    "Silvia",
    "Laura",
    "Anna",
    "Giorgia",
    "Roberta",
    "Paola",
    "Marta",
    "Ilaria",
    "Beatrice",
    "Camilla",
    "Sofia",
    "Aurora",
    "Alice",
    "Emma",
    "Greta",
    "Noemi",
    "Lucia",
    "Claire",
    "Marie",
    "Sophie",
    "Hannah",
    "Lena",
    "Carmen",
    "Lucía",
    "Ana",
    "Zoë",
    "Chloé",
)
FIRST_NAMES_M = (
    "Mario",
    "Marco",
    "Luca",
    "Giuseppe",
    "Francesco",
    "Alessandro",
    "Andrea",
    "Matteo",
    "Lorenzo",
    "Davide",
    "Simone",
    "Federico",
    "Riccardo",
    "Stefano",
    "Paolo",
    "Giovanni",
    "Antonio",
    "Roberto",
    "Niccolò",
    "Tommaso",
    "Gabriele",
    "Emanuele",
    "Fabio",
    "Daniele",
    "Pietro",
    "Jean",
    "Pierre",
    "Lukas",
    "Jonas",
    "Javier",
    "Pablo",
    "Thomas",
    "James",
    "Jürgen",
)
LAST_NAMES = (
    "Rossi",
    "Russo",
    "Ferrari",
    "Esposito",
    "Bianchi",
    "Romano",
    "Colombo",
    "Ricci",
    "Marino",
    "Greco",
    "Bruno",
    "Gallo",
    "Conti",
    "De Luca",
    "Mancini",
    "Costa",
    "Giordano",
    "Rizzo",
    "Lombardi",
    "Moretti",
    "Barbieri",
    "Fontana",
    "Santoro",
    "Mariani",
    "Rinaldi",
    "Caruso",
    "Ferrara",
    "Galli",
    "Martini",
    "Leone",
    "Longo",
    "Gentile",
    "Martinelli",
    "Vitale",
    "Lombardo",
    "Serra",
    "Coppola",
    "De Santis",
    "D'Angelo",
    "Marchetti",
    "Parisi",
    "Villa",
    "Conte",
    "Ferraro",
    "Ferri",
    "Fabbri",
    "Bianco",
    "Marini",
    "Grasso",
    "Valentini",
    "Messina",
    "Sala",
    "De Angelis",
    "Gatti",
    "Pellegrini",
    "Palumbo",
    "Sanna",
    "Farina",
    "Rizzi",
    "Monti",
    "Cattaneo",
    "Morelli",
    "Amato",
    "Silvestri",
    "Mazza",
    "Testa",
    "Dubois",
    "Martin",
    "Müller",
    "Schmidt",
    "García",
    "Fernández",
    "Smith",
    "Nowak",
)
CITIES = (
    ("Milano", "MI", "Lombardia", "201"),
    ("Roma", "RM", "Lazio", "001"),
    ("Napoli", "NA", "Campania", "801"),
    ("Torino", "TO", "Piemonte", "101"),
    ("Bologna", "BO", "Emilia-Romagna", "401"),
    ("Firenze", "FI", "Toscana", "501"),
    ("Genova", "GE", "Liguria", "161"),
    ("Palermo", "PA", "Sicilia", "901"),
    ("Bari", "BA", "Puglia", "701"),
    ("Verona", "VR", "Veneto", "371"),
    ("Padova", "PD", "Veneto", "351"),
    ("Brescia", "BS", "Lombardia", "251"),
    ("Bergamo", "BG", "Lombardia", "241"),
    ("Trieste", "TS", "Friuli-Venezia Giulia", "341"),
    ("Cagliari", "CA", "Sardegna", "091"),
    ("Parma", "PR", "Emilia-Romagna", "431"),
    ("Lecce", "LE", "Puglia", "731"),
    ("Trento", "TN", "Trentino-Alto Adige", "381"),
)
STREETS = (
    "Via Roma",
    "Via Garibaldi",
    "Corso Vittorio Emanuele",
    "Via Mazzini",
    "Via Verdi",
    "Viale dei Mille",
    "Via Dante",
    "Piazza della Repubblica",
    "Via Cavour",
    "Via Manzoni",
    "Corso Italia",
    "Via XX Settembre",
    "Via Leopardi",
    "Viale Europa",
    "Via San Francesco",
)
EMAIL_DOMAINS = (
    "gmail.com",
    "gmail.com",
    "gmail.com",
    "libero.it",
    "hotmail.it",
    "yahoo.it",
    "outlook.com",
    "tiscali.it",
    "virgilio.it",
    "icloud.com",
    "alice.it",
    "fastwebnet.it",
)
MOBILE_PREFIXES = (
    "320",
    "328",
    "329",
    "333",
    "334",
    "335",
    "338",
    "339",
    "340",
    "345",
    "347",
    "348",
    "349",
    "351",
    "366",
    "388",
    "392",
)

PRODUCTS = (
    ("SKU-1001", "Scarpe running Veloce 2", 89.90, "Scarpe"),
    ("SKU-1002", "Sneakers Urbano bianche", 74.50, "Scarpe"),
    ("SKU-1003", "Stivaletti in pelle Dolomiti", 139.00, "Scarpe"),
    ("SKU-2001", "Giacca impermeabile Tempesta", 119.00, "Abbigliamento"),
    ("SKU-2002", "Maglione in lana merino", 64.90, "Abbigliamento"),
    ("SKU-2003", "Jeans slim fit blu scuro", 49.90, "Abbigliamento"),
    ("SKU-2004", "T-shirt cotone bio (3 pz)", 29.90, "Abbigliamento"),
    ("SKU-3001", "Zaino da trekking 30L", 79.00, "Outdoor"),
    ("SKU-3002", "Borraccia termica 750 ml", 24.90, "Outdoor"),
    ("SKU-3003", "Tenda 2 posti Leggera", 189.00, "Outdoor"),
    ("SKU-4001", "Cuffie wireless ANC", 149.00, "Elettronica"),
    ("SKU-4002", "Smartwatch Sport GPS", 199.00, "Elettronica"),
    ("SKU-4003", "Power bank 20000 mAh", 39.90, "Elettronica"),
    ("SKU-5001", "Set pentole antiaderenti", 99.00, "Casa"),
    ("SKU-5002", "Macchina espresso Moka elettrica", 54.90, "Casa"),
    ("SKU-5003", "Lenzuola matrimoniali in lino", 119.90, "Casa"),
)
PAGES = (
    "/",
    "/donna",
    "/uomo",
    "/saldi",
    "/novita",
    "/outdoor",
    "/elettronica",
    "/casa",
    "/aiuto/spedizioni",
    "/aiuto/resi",
    "/account/ordini",
    "/cerca?q=giacca",
    "/cerca?q=scarpe+running",
    "/blog/guida-taglie",
)
CHECKOUT_STEPS = (
    "cart",
    "shipping_address",
    "shipping_method",
    "payment",
    "review",
    "confirmation",
)
ORDER_STATUSES = (
    "delivered",
    "delivered",
    "delivered",
    "delivered",
    "shipped",
    "processing",
    "cancelled",
    "returned",
    "refunded",
)
CARRIERS = ("BRT", "GLS", "Poste Italiane", "SDA", "DHL")

# (intent, subject IT, subject EN, first message IT, first message EN)
INTENTS = (
    (
        "where_is_my_order",
        "Dov'è il mio ordine {order}?",
        "Where is my order {order}?",
        "Buongiorno, ho ordinato una settimana fa ({order}) e non è ancora arrivato nulla. Potete verificare?",
        "Hello, I ordered a week ago ({order}) and nothing has arrived yet. Can you check?",
    ),
    (
        "return_request",
        "Reso per l'ordine {order}",
        "Return for order {order}",
        "Vorrei restituire un articolo dell'ordine {order}, la taglia è sbagliata. Come faccio?",
        "I'd like to return an item from order {order}, the size is wrong. How do I do it?",
    ),
    (
        "refund_status",
        "Rimborso non ancora ricevuto",
        "Refund not received yet",
        "Ho restituito il pacco da due settimane ma il rimborso non è ancora arrivato.",
        "I sent the parcel back two weeks ago but I still haven't been refunded.",
    ),
    (
        "damaged_item",
        "Articolo arrivato danneggiato",
        "Item arrived damaged",
        "Il pacco è arrivato con la scatola rotta e l'articolo è graffiato. Allego foto.",
        "The parcel arrived with a broken box and the item is scratched. Photos attached.",
    ),
    (
        "payment_failed",
        "Pagamento rifiutato al checkout",
        "Payment declined at checkout",
        "Provo a pagare con la carta ma il sito dà errore al passaggio del pagamento.",
        "I try to pay by card but the site fails at the payment step.",
    ),
    (
        "change_address",
        "Modifica indirizzo di consegna",
        "Change delivery address",
        "Posso cambiare l'indirizzo di consegna dell'ordine {order}? Mi sono trasferito.",
        "Can I change the delivery address of order {order}? I have moved.",
    ),
    (
        "product_question",
        "Domanda su un prodotto",
        "Question about a product",
        "La giacca Tempesta è adatta anche per la neve? Che taglia mi consigliate per 1,80 m?",
        "Is the Tempesta jacket fine for snow too? Which size for someone 1.80 m tall?",
    ),
    (
        "complaint",
        "Reclamo: servizio pessimo",
        "Complaint: terrible service",
        "È la terza volta che scrivo e nessuno mi risponde. Sono molto deluso.",
        "This is the third time I write and nobody answers. I'm very disappointed.",
    ),
    (
        "account_access",
        "Non riesco ad accedere al mio account",
        "Can't log into my account",
        "Non ricevo l'email per reimpostare la password. Ho cambiato indirizzo email di recente.",
        "I don't get the password reset e-mail. I changed my e-mail address recently.",
    ),
    (
        "invoice_request",
        "Richiesta fattura",
        "Invoice request",
        "Mi servirebbe la fattura intestata alla mia azienda per l'ordine {order}.",
        "I need an invoice in my company's name for order {order}.",
    ),
)
INTENT_BY_NAME = {intent[0]: intent for intent in INTENTS}
#: What a customer without orders asks instead of an intent about one of their orders.
NO_ORDER_INTENT = {
    "where_is_my_order": "payment_failed",
    "return_request": "product_question",
    "change_address": "account_access",
    "invoice_request": "product_question",
}
AGENT_REPLIES_IT = (
    "Buongiorno {name}, grazie per averci scritto. Ho verificato e le aggiorno a breve.",
    "Gentile {name}, il suo ordine risulta in consegna con il corriere. Le invio il tracking.",
    "Ciao {name}, ho aperto la pratica di reso: riceverà l'etichetta via email.",
    "Gentile {name}, il rimborso è stato disposto oggi e sarà visibile in 3-5 giorni lavorativi.",
)
AGENT_REPLIES_EN = (
    "Hello {name}, thanks for getting in touch. I've checked and will update you shortly.",
    "Dear {name}, your order is out for delivery. I'm sending you the tracking link.",
    "Hi {name}, I've opened the return: you'll receive the label by e-mail.",
    "Dear {name}, the refund was issued today and will show in 3-5 business days.",
)
CUSTOMER_FOLLOWUPS = (
    "Grazie mille!",
    "Ok, attendo notizie.",
    "Perfetto, grazie per l'aiuto.",
    "Thanks!",
    "Still nothing, any news?",
    "Ancora niente, ci sono novità?",
)

AGENTS = (
    ("demo", "Demo Operator", "operator"),
    ("giulia", "Giulia Neri", "operator"),
    ("marco", "Marco Villa", "operator"),
    ("sara", "Sara Fontana", "operator"),
    ("luca", "Luca Ferri", "operator"),
    ("elena", "Elena Sala", "operator"),
    ("anna", "Anna Galli", "supervisor"),
    ("admin", "Vista Admin", "admin"),
)

#: The operators' skills (intents, languages, channels; none listed: any) and presence when
#: the demo is made, so routing has someone to offer a new contact to and the Supervisor
#: screen shows a real desk; `demo`, the console's own operator, takes anything.
DESK = {
    "demo": ({"intents": [], "languages": [], "channels": []}, "online"),
    "giulia": (
        {
            "intents": ["where_is_my_order", "return_request", "refund_status", "damaged_item"],
            "languages": ["it", "en"],
            "channels": ["email", "whatsapp", "chat", "web"],
        },
        "online",
    ),
    "marco": (
        {"intents": ["complaint", "payment_failed"], "languages": ["it"], "channels": []},
        "online",
    ),
    "sara": ({"intents": [], "languages": ["it", "de"], "channels": ["email", "web"]}, "away"),
    "luca": ({"intents": [], "languages": ["it", "en"], "channels": ["phone", "sms"]}, "offline"),
    "elena": ({"intents": [], "languages": ["en", "it"], "channels": []}, "online"),
}

TEMPLATES = (
    (
        "greeting_it",
        None,
        "it",
        False,
        "Buongiorno {first_name}, sono {agent.name} del servizio clienti. Come posso aiutarla?",
    ),
    (
        "greeting_en",
        None,
        "en",
        False,
        "Hello {first_name}, this is {agent.name} from customer care. How can I help?",
    ),
    (
        "order_status_it",
        None,
        "it",
        False,
        (
            "Gentile {first_name}, il suo ordine {last_order.number} è nello stato: "
            "{last_order.status}. Le scriveremo appena ci sono novità."
        ),
    ),
    (
        "order_status_en",
        None,
        "en",
        False,
        (
            "Dear {first_name}, your order {last_order.number} is currently: {last_order.status}. "
            "We'll write as soon as there is news."
        ),
    ),
    (
        "return_label_it",
        "email",
        "it",
        False,
        (
            "Gentile {first_name},\n\nin allegato trova l'etichetta per il reso dell'ordine "
            "{last_order.number}. Il rimborso arriverà entro 5 giorni lavorativi dalla ricezione.\n\n"
            "Cordiali saluti,\n{agent.name}"
        ),
    ),
    (
        "refund_issued_en",
        None,
        "en",
        False,
        (
            "Dear {first_name}, the refund for order {last_order.number} was issued today. "
            "It will show on your statement within 3-5 business days."
        ),
    ),
    (
        "apology_it",
        None,
        "it",
        False,
        (
            "Gentile {first_name}, ci scusiamo per il disagio. Ho preso in carico la sua richiesta "
            '"{contact.subject}" e la seguirò personalmente.'
        ),
    ),
    (
        "whatsapp_followup_it",
        "whatsapp",
        "it",
        True,
        (
            "Ciao {first_name}, ti scriviamo da Vista Store riguardo alla tua richiesta. "
            "Rispondi a questo messaggio per continuare la conversazione."
        ),
    ),
    (
        "whatsapp_followup_en",
        "whatsapp",
        "en",
        True,
        (
            "Hi {first_name}, this is Vista Store about your request. "
            "Reply to this message to continue the conversation."
        ),
    ),
    (
        "closing_en",
        None,
        "en",
        False,
        "Thanks {first_name}, I'm closing this request now. Just reply if you need anything else.",
    ),
)


def phone_format(national: str, style: int) -> str:
    """An Italian mobile number written one of the ways customers write it (style 0-5)."""
    if style == 0:
        return f"+39 {national[:3]} {national[3:6]} {national[6:]}"
    if style == 1:
        return national
    if style == 2:
        return f"0039 {national[:3]}-{national[3:]}"
    if style == 3:
        return f"{national[:3]} {national[3:]}"
    if style == 4:
        return f"+39{national}"
    return f"({national[:3]}) {national[3:6]}.{national[6:]}"
