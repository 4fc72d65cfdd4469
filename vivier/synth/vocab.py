"""Word lists the synthetic exports are drawn from.

Everything a recruiter would type as free text lives here: job families with their titles and
skills (French wording, English wording and the aliases people actually write), pipeline
stages, rejection reasons, sources, tags, countries and e-mail domains.

The lists are plain tuples so they can be imported by tests and benchmarks to know what to
expect in the generated files.
"""

from __future__ import annotations

from dataclasses import dataclass

LOCALES: tuple[str, ...] = ("fr_FR", "en_GB", "de_DE", "it_IT")
# share of each locale among generated people
LOCALE_WEIGHTS: tuple[float, ...] = (0.55, 0.15, 0.15, 0.15)

# locale -> (ISO country code, French country name, English country name)
COUNTRIES: tuple[tuple[str, str, str], ...] = (
    ("FR", "France", "France"),
    ("GB", "Royaume-Uni", "United Kingdom"),
    ("DE", "Allemagne", "Germany"),
    ("IT", "Italie", "Italy"),
)

# locale -> (ISO language code, French name, English name)
LANGUAGES: tuple[tuple[str, str, str], ...] = (
    ("fr", "Français", "French"),
    ("en", "Anglais", "English"),
    ("de", "Allemand", "German"),
    ("it", "Italien", "Italian"),
)

EMAIL_DOMAINS: tuple[tuple[str, ...], ...] = (
    (
        "gmail.com",
        "orange.fr",
        "hotmail.fr",
        "yahoo.fr",
        "free.fr",
        "laposte.net",
        "outlook.fr",
        "sfr.fr",
        "wanadoo.fr",
        "icloud.com",
    ),
    ("gmail.com", "hotmail.co.uk", "outlook.com", "yahoo.co.uk", "btinternet.com", "icloud.com", "live.co.uk"),
    ("gmail.com", "web.de", "gmx.de", "t-online.de", "gmx.net", "outlook.de", "posteo.de"),
    ("gmail.com", "libero.it", "hotmail.it", "yahoo.it", "virgilio.it", "alice.it", "outlook.it"),
)
# the first domain of each list (gmail.com) is drawn this often, the rest share the remainder
MAIN_DOMAIN_SHARE = 0.35

# Faker's French and British city providers invent names and its Italian one depends on the
# interpreter's hash seed; real cities (big ones repeated, i.e. more frequent) read better in a demo.
FR_CITIES: tuple[str, ...] = (
    "Paris",
    "Paris",
    "Paris",
    "Paris",
    "Lyon",
    "Lyon",
    "Marseille",
    "Marseille",
    "Toulouse",
    "Toulouse",
    "Nantes",
    "Bordeaux",
    "Lille",
    "Lille",
    "Rennes",
    "Strasbourg",
    "Montpellier",
    "Nice",
    "Grenoble",
    "Rouen",
    "Tours",
    "Dijon",
    "Angers",
    "Reims",
    "Le Havre",
    "Saint-Étienne",
    "Clermont-Ferrand",
    "Brest",
    "Metz",
    "Nancy",
    "Orléans",
    "Caen",
    "Limoges",
    "Amiens",
    "Perpignan",
    "Besançon",
    "Boulogne-Billancourt",
    "Nanterre",
    "Villeurbanne",
    "Aix-en-Provence",
    "Annecy",
    "La Rochelle",
    "Poitiers",
    "Pau",
    "Bayonne",
    "Levallois-Perret",
    "Issy-les-Moulineaux",
    "Créteil",
    "Versailles",
)
GB_CITIES: tuple[str, ...] = (
    "London",
    "London",
    "London",
    "London",
    "Manchester",
    "Manchester",
    "Birmingham",
    "Birmingham",
    "Leeds",
    "Glasgow",
    "Edinburgh",
    "Bristol",
    "Liverpool",
    "Sheffield",
    "Newcastle upon Tyne",
    "Nottingham",
    "Leicester",
    "Cardiff",
    "Belfast",
    "Brighton",
    "Southampton",
    "Reading",
    "Oxford",
    "Cambridge",
    "Milton Keynes",
    "York",
    "Coventry",
    "Aberdeen",
    "Bath",
    "Norwich",
)
DE_CITIES: tuple[str, ...] = (
    "Berlin",
    "Berlin",
    "Berlin",
    "Hamburg",
    "Hamburg",
    "München",
    "München",
    "Köln",
    "Frankfurt am Main",
    "Frankfurt am Main",
    "Stuttgart",
    "Düsseldorf",
    "Leipzig",
    "Dortmund",
    "Essen",
    "Bremen",
    "Dresden",
    "Hannover",
    "Nürnberg",
    "Karlsruhe",
    "Mannheim",
    "Bonn",
    "Münster",
    "Freiburg im Breisgau",
)
IT_CITIES: tuple[str, ...] = (
    "Milano",
    "Milano",
    "Milano",
    "Roma",
    "Roma",
    "Roma",
    "Torino",
    "Torino",
    "Napoli",
    "Bologna",
    "Bologna",
    "Firenze",
    "Genova",
    "Venezia",
    "Verona",
    "Bari",
    "Palermo",
    "Padova",
    "Brescia",
    "Bergamo",
    "Trieste",
    "Modena",
    "Parma",
    "Pisa",
    "Catania",
    "Cagliari",
    "Monza",
    "Trento",
    "Perugia",
    "Ancona",
)


@dataclass(frozen=True)
class Skill:
    """A skill as recruiters and candidates write it.

    ``fr`` and ``en`` are the wordings used in French and English texts; ``aliases`` are the
    abbreviations and spelling variants seen in free text in either language.
    """

    key: str
    fr: tuple[str, ...]
    en: tuple[str, ...]
    aliases: tuple[str, ...] = ()

    def variants(self, lang: str) -> tuple[str, ...]:
        """Wordings a person writing in ``lang`` ('fr' or 'en') may use, aliases included."""
        return (self.fr if lang == "fr" else self.en) + self.aliases


def _s(
    key: str, fr: str | tuple[str, ...], en: str | tuple[str, ...] | None = None, aliases: tuple[str, ...] = ()
) -> Skill:
    fr_t = (fr,) if isinstance(fr, str) else fr
    if en is None:
        en_t = fr_t
    else:
        en_t = (en,) if isinstance(en, str) else en
    return Skill(key, fr_t, en_t, aliases)


SKILLS: dict[str, Skill] = {
    s.key: s
    for s in (
        # software
        _s("javascript", "JavaScript", aliases=("JS", "Javascript", "javascript", "ES6")),
        _s("typescript", "TypeScript", aliases=("TS", "Typescript")),
        _s("python", "Python", aliases=("python", "Python 3", "Python3")),
        _s("java", "Java", aliases=("Java 17", "J2EE")),
        _s("cpp", "C++", aliases=("cpp", "C/C++")),
        _s("csharp", "C#", aliases=("C Sharp", "c#")),
        _s("dotnet", ".NET", aliases=("dotnet", ".Net", "ASP.NET")),
        _s("sql", "SQL", aliases=("sql", "PostgreSQL", "MySQL")),
        _s("git", "Git", aliases=("GitHub", "GitLab")),
        _s("docker", "Docker", aliases=("docker", "conteneurs")),
        _s("kubernetes", "Kubernetes", aliases=("K8s", "k8s")),
        _s("react", "React", aliases=("React.js", "ReactJS", "react")),
        _s("nodejs", "Node.js", aliases=("NodeJS", "Node")),
        _s("aws", "AWS", aliases=("Amazon Web Services",)),
        _s("linux", "Linux", aliases=("Unix", "linux")),
        _s("unit_testing", "Tests unitaires", "Unit testing", ("TDD", "tests automatisés")),
        _s("agile", ("Méthodes agiles", "Agilité"), ("Agile", "Agile methods"), ("Scrum", "Kanban")),
        # data
        _s("power_bi", "Power BI", aliases=("PowerBI", "power bi")),
        _s("tableau", "Tableau", aliases=("Tableau Software",)),
        _s("excel", "Excel", aliases=("MS Excel", "Microsoft Excel", "excel", "Excel avancé")),
        _s("statistics", "Statistiques", "Statistics", ("stats",)),
        _s("machine_learning", "Apprentissage automatique", "Machine learning", ("ML", "Machine Learning")),
        _s("r_lang", "R", aliases=("RStudio",)),
        _s("spark", "Spark", aliases=("Apache Spark", "PySpark")),
        _s("dataviz", "Datavisualisation", "Data visualisation", ("Dataviz", "Data visualization")),
        _s("etl", "ETL", aliases=("ELT", "pipelines de données")),
        _s("pandas", "pandas", aliases=("Pandas",)),
        # sales
        _s("negotiation", "Négociation", "Negotiation", ("négo", "Négociation commerciale")),
        _s("prospecting", "Prospection", "Prospecting", ("Business development", "Développement commercial")),
        _s("crm", "CRM", aliases=("Salesforce", "HubSpot")),
        _s("customer_relationship", "Relation client", "Customer relationship", ("Relation clients",)),
        _s("cold_calling", "Prospection téléphonique", "Cold calling", ("phoning", "Phoning")),
        _s("account_management", "Gestion de portefeuille", "Account management", ("Key account management",)),
        _s("closing", "Closing", aliases=("Conclusion de ventes",)),
        _s("english", "Anglais courant", "Fluent English", ("Anglais", "English", "TOEIC")),
        _s("project_management", "Gestion de projet", "Project management", ("PMP", "Gestion de projets")),
        # marketing
        _s("seo", "Référencement naturel", "SEO", ("SEO", "référencement")),
        _s("sea", "SEA", aliases=("Google Ads", "AdWords")),
        _s("digital_marketing", "Marketing digital", "Digital marketing", ("Webmarketing", "Marketing numérique")),
        _s("social_media", "Réseaux sociaux", "Social media", ("Community management",)),
        _s("copywriting", "Rédaction web", ("Copywriting", "Content writing"), ("Content marketing",)),
        _s("google_analytics", "Google Analytics", aliases=("GA4",)),
        _s("emailing", "Emailing", "Email marketing", ("E-mailing", "Mailchimp")),
        _s("canva", "Canva"),
        # finance
        _s("accounting", "Comptabilité", "Accounting", ("Compta", "Comptabilité générale", "Bookkeeping")),
        _s("management_control", "Contrôle de gestion", ("Management control", "Controlling"), ("FP&A",)),
        _s("sap", "SAP", aliases=("SAP FI", "SAP S/4HANA")),
        _s("consolidation", "Consolidation", "Financial consolidation", ("Conso",)),
        _s("ifrs", "IFRS", aliases=("Normes IFRS",)),
        _s("tax", "Fiscalité", "Tax", ("TVA", "VAT")),
        _s("financial_analysis", "Analyse financière", "Financial analysis", ("Reporting financier",)),
        _s("treasury", "Trésorerie", "Treasury", ("Cash management",)),
        _s("vba", "VBA", aliases=("Macros Excel",)),
        # hr
        _s("recruitment", "Recrutement", ("Recruitment", "Recruiting"), ("Talent acquisition", "Sourcing")),
        _s("payroll", "Paie", "Payroll", ("Gestion de la paie", "Silae")),
        _s("employment_law", "Droit du travail", ("Employment law", "Labour law"), ("Droit social",)),
        _s("hris", "SIRH", "HRIS", ("Workday", "SuccessFactors")),
        _s("training", "Formation", ("Training", "Learning & development"), ("L&D",)),
        _s("talent_management", "Gestion des talents", "Talent management", ("GPEC",)),
        _s("interviewing", "Conduite d'entretiens", "Interviewing", ("Entretiens",)),
        _s("employee_relations", "Relations sociales", "Employee relations", ("Dialogue social",)),
        # customer support
        _s("customer_service", "Service client", "Customer service", ("SAV", "Relation clientèle")),
        _s("zendesk", "Zendesk", aliases=("Freshdesk",)),
        _s("tech_support", "Support technique", "Technical support", ("Helpdesk", "Support N1", "Support N2")),
        _s("complaints", "Gestion des réclamations", "Complaint handling", ("Réclamations",)),
        _s("ticketing", "Gestion des tickets", "Ticketing", ("Jira Service Management",)),
        _s("problem_solving", "Résolution de problèmes", "Problem solving"),
        _s("communication", "Communication", aliases=("Aisance relationnelle",)),
        # logistics
        _s("inventory", "Gestion des stocks", ("Inventory management", "Stock control"), ("Inventaires",)),
        _s("supply_chain", "Chaîne logistique", "Supply chain", ("Supply Chain", "SCM")),
        _s("caces", "CACES", aliases=("CACES 1-3-5", "Permis cariste")),
        _s("transport", "Transport", aliases=("Gestion du transport", "TMS")),
        _s("wms", "WMS", aliases=("Warehouse management system",)),
        _s("lean", "Lean", aliases=("Lean management", "Lean Six Sigma", "Kaizen")),
        _s("planning", "Planification", "Planning", ("Ordonnancement",)),
        _s("procurement", "Achats", ("Procurement", "Purchasing"), ("Approvisionnement",)),
        # design
        _s("figma", "Figma", aliases=("figma",)),
        _s("ux", "Conception UX", "UX design", ("UX", "Expérience utilisateur")),
        _s("ui", "Design d'interface", "UI design", ("UI",)),
        _s("photoshop", "Photoshop", aliases=("Adobe Photoshop",)),
        _s("illustrator", "Illustrator", aliases=("Adobe Illustrator",)),
        _s("design_thinking", "Design thinking", aliases=("Design Thinking",)),
        _s("prototyping", "Prototypage", "Prototyping", ("Maquettage", "Wireframing")),
        _s("user_research", "Recherche utilisateur", "User research", ("Tests utilisateurs", "User testing")),
        _s("indesign", "InDesign", aliases=("Adobe InDesign",)),
        # health
        _s("nursing_care", "Soins infirmiers", "Nursing care", ("Soins",)),
        _s("emergency_care", "Urgences", "Emergency care", ("Service des urgences", "A&E")),
        _s("geriatrics", "Gériatrie", "Geriatrics", ("EHPAD",)),
        _s("paediatrics", "Pédiatrie", ("Paediatrics", "Pediatrics")),
        _s("infection_control", "Hygiène hospitalière", "Infection control"),
        _s("phlebotomy", "Prélèvements sanguins", "Phlebotomy", ("Prise de sang",)),
        _s("pain_management", "Prise en charge de la douleur", "Pain management"),
        _s("ehr", "Dossier patient informatisé", "Electronic health records", ("DPI", "EHR")),
        _s("first_aid", "Premiers secours", "First aid", ("AFGSU", "PSC1")),
    )
}


@dataclass(frozen=True)
class JobFamily:
    key: str
    department_fr: str
    department_en: str
    titles_fr: tuple[str, ...]
    titles_en: tuple[str, ...]
    skills: tuple[str, ...]  # keys of SKILLS, the most typical first
    weight: float  # share of people in this family


JOB_FAMILIES: tuple[JobFamily, ...] = (
    JobFamily(
        "software_engineering",
        "Ingénierie",
        "Engineering",
        (
            "Développeur Python",
            "Développeur full-stack",
            "Ingénieur logiciel",
            "Développeur Java",
            "Développeur .NET",
            "Développeur front-end",
            "Ingénieur DevOps",
        ),
        (
            "Software Engineer",
            "Backend Developer",
            "Full-stack Developer",
            "Frontend Engineer",
            "DevOps Engineer",
            ".NET Developer",
            "Java Developer",
        ),
        (
            "python",
            "javascript",
            "sql",
            "git",
            "java",
            "typescript",
            "react",
            "docker",
            "cpp",
            "csharp",
            "dotnet",
            "nodejs",
            "kubernetes",
            "aws",
            "linux",
            "unit_testing",
            "agile",
        ),
        0.18,
    ),
    JobFamily(
        "data",
        "Data",
        "Data & Analytics",
        ("Data analyst", "Data scientist", "Ingénieur data", "Analyste BI", "Chargé d'études statistiques"),
        ("Data Analyst", "Data Scientist", "Data Engineer", "BI Analyst", "Analytics Engineer"),
        (
            "sql",
            "python",
            "excel",
            "power_bi",
            "statistics",
            "tableau",
            "machine_learning",
            "r_lang",
            "spark",
            "dataviz",
            "etl",
            "pandas",
            "english",
        ),
        0.10,
    ),
    JobFamily(
        "sales",
        "Ventes",
        "Sales",
        (
            "Commercial B2B",
            "Business developer",
            "Chargé d'affaires",
            "Responsable grands comptes",
            "Ingénieur commercial",
        ),
        (
            "Account Executive",
            "Business Developer",
            "Sales Manager",
            "Key Account Manager",
            "Inside Sales Representative",
        ),
        (
            "negotiation",
            "prospecting",
            "crm",
            "customer_relationship",
            "cold_calling",
            "account_management",
            "closing",
            "english",
            "excel",
        ),
        0.14,
    ),
    JobFamily(
        "marketing",
        "Marketing",
        "Marketing",
        (
            "Chargé de marketing digital",
            "Responsable communication",
            "Chef de produit marketing",
            "Traffic manager",
            "Community manager",
        ),
        (
            "Digital Marketing Manager",
            "Content Marketing Specialist",
            "Product Marketing Manager",
            "SEO Specialist",
            "Growth Marketer",
        ),
        (
            "digital_marketing",
            "seo",
            "social_media",
            "copywriting",
            "google_analytics",
            "sea",
            "emailing",
            "project_management",
            "canva",
            "photoshop",
            "english",
        ),
        0.10,
    ),
    JobFamily(
        "finance",
        "Finance",
        "Finance",
        ("Comptable", "Contrôleur de gestion", "Analyste financier", "Comptable fournisseurs", "Responsable comptable"),
        ("Accountant", "Financial Controller", "Financial Analyst", "Accounts Payable Specialist", "FP&A Analyst"),
        (
            "accounting",
            "excel",
            "management_control",
            "sap",
            "financial_analysis",
            "consolidation",
            "ifrs",
            "tax",
            "treasury",
            "power_bi",
            "vba",
        ),
        0.10,
    ),
    JobFamily(
        "hr",
        "Ressources humaines",
        "People",
        (
            "Chargé de recrutement",
            "Gestionnaire de paie",
            "Responsable RH",
            "Chargé de formation",
            "HR business partner",
        ),
        ("Recruiter", "Talent Acquisition Specialist", "Payroll Specialist", "HR Manager", "HR Business Partner"),
        (
            "recruitment",
            "payroll",
            "employment_law",
            "hris",
            "training",
            "talent_management",
            "interviewing",
            "employee_relations",
            "excel",
        ),
        0.07,
    ),
    JobFamily(
        "customer_support",
        "Service client",
        "Customer Support",
        (
            "Conseiller clientèle",
            "Chargé de support client",
            "Technicien support",
            "Téléconseiller",
            "Responsable service client",
        ),
        (
            "Customer Support Agent",
            "Customer Success Manager",
            "Technical Support Specialist",
            "Customer Service Representative",
            "Support Team Lead",
        ),
        (
            "customer_service",
            "communication",
            "zendesk",
            "tech_support",
            "complaints",
            "ticketing",
            "problem_solving",
            "crm",
            "english",
        ),
        0.12,
    ),
    JobFamily(
        "logistics",
        "Logistique",
        "Operations",
        ("Responsable logistique", "Préparateur de commandes", "Approvisionneur", "Gestionnaire de stocks", "Cariste"),
        (
            "Logistics Coordinator",
            "Warehouse Operative",
            "Supply Chain Analyst",
            "Inventory Controller",
            "Procurement Officer",
        ),
        ("inventory", "supply_chain", "sap", "caces", "transport", "wms", "lean", "planning", "procurement", "excel"),
        0.09,
    ),
    JobFamily(
        "design",
        "Design",
        "Design",
        ("Designer UX/UI", "Graphiste", "Designer produit", "Directeur artistique", "Webdesigner"),
        ("UX Designer", "UI Designer", "Product Designer", "Graphic Designer", "Art Director"),
        (
            "figma",
            "ux",
            "ui",
            "photoshop",
            "illustrator",
            "design_thinking",
            "prototyping",
            "user_research",
            "indesign",
        ),
        0.05,
    ),
    JobFamily(
        "nursing_health",
        "Soins",
        "Nursing",
        ("Infirmier", "Infirmière", "Aide-soignant", "Infirmier de bloc opératoire", "Cadre de santé"),
        ("Registered Nurse", "Staff Nurse", "Healthcare Assistant", "Theatre Nurse", "Ward Manager"),
        (
            "nursing_care",
            "emergency_care",
            "geriatrics",
            "paediatrics",
            "infection_control",
            "phlebotomy",
            "pain_management",
            "ehr",
            "first_aid",
        ),
        0.05,
    ),
)

# Pipeline stages by rank (0 = first). Each company names them its own way, so each generated
# file picks one French and one English wording per rank.
STAGES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (
        ("Présélection", "Nouvelle candidature", "Tri des CV", "Candidature reçue"),
        ("Application review", "New applicant", "Applied", "Review"),
    ),
    (
        ("Entretien téléphonique", "Appel de qualification", "Préqualification téléphonique"),
        ("Phone screen", "Recruiter screen", "Phone interview"),
    ),
    (
        ("Entretien technique", "Test technique", "Entretien manager", "Cas pratique"),
        ("Technical interview", "Assessment", "Hiring manager interview", "Case study"),
    ),
    (("Entretien final", "Entretien direction", "Dernier entretien"), ("Final interview", "Onsite", "Final round")),
    (("Offre", "Offre envoyée", "Proposition"), ("Offer", "Offer extended", "Offer stage")),
)
STAGE_TYPES: tuple[str, ...] = ("inbox", "in_process", "interview", "interview", "offer")

# Rank reached by rejected applications (many early rejections, ~13% final interview or offer),
# by applications still in progress, and the share of each status.
FUNNEL_REJECTED: tuple[float, ...] = (0.46, 0.25, 0.16, 0.09, 0.04)
FUNNEL_ACTIVE: tuple[float, ...] = (0.40, 0.30, 0.20, 0.08, 0.02)

# stage names no stage map knows (defect "unknown_stage")
UNKNOWN_STAGES: tuple[str, ...] = (
    "Étape 7",
    "Ancien pipeline - à trier",
    "zz_archive",
    "Vivier (ancien)",
    "Stage 12",
    "TBD",
)

# (French, English) wordings
COMPANY_REASONS: tuple[tuple[str, str], ...] = (
    ("Profil pas assez expérimenté", "Not enough experience"),
    ("Compétences techniques insuffisantes", "Lacks required skills"),
    ("Profil trop junior", "Underqualified"),
    ("Profil surqualifié", "Overqualified"),
    ("Poste pourvu", "Position filled"),
    ("Autre candidat retenu", "Another candidate selected"),
    ("Poste annulé", "Position cancelled"),
    ("Prétentions salariales trop élevées", "Salary expectations too high"),
    ("Niveau d'anglais insuffisant", "Insufficient English"),
    ("Ne correspond pas au profil recherché", "Not a fit for the role"),
    ("Localisation incompatible", "Location mismatch"),
    ("Échec au test technique", "Failed technical assessment"),
)
COMPANY_REASON_WEIGHTS: tuple[float, ...] = (0.17, 0.12, 0.07, 0.04, 0.12, 0.12, 0.03, 0.05, 0.04, 0.16, 0.04, 0.04)
CANDIDATE_REASONS: tuple[tuple[str, str], ...] = (
    ("Candidat a retiré sa candidature", "Withdrew"),
    ("A accepté une autre offre", "Accepted another offer"),
    ("Prétentions salariales non satisfaites", "Salary expectations"),
    ("Ne donne plus de nouvelles", "Unresponsive"),
    ("Mobilité géographique impossible", "Relocation not possible"),
    ("Raisons personnelles", "Personal reasons"),
    ("Plus intéressé par le poste", "No longer interested"),
)
CANDIDATE_REASON_WEIGHTS: tuple[float, ...] = (0.28, 0.22, 0.12, 0.15, 0.06, 0.07, 0.10)
# candidate-side reasons once an offer was made
OFFER_DECLINE_REASONS: tuple[tuple[str, str], ...] = (
    ("A décliné l'offre", "Declined offer"),
    ("Prétentions salariales non satisfaites", "Salary expectations"),
    ("A accepté une contre-proposition", "Accepted counter-offer"),
)
OFFER_DECLINE_WEIGHTS: tuple[float, ...] = (0.55, 0.30, 0.15)

# all reasons in one table: (French, English, side); index = reason id used in the files
REASONS: tuple[tuple[str, str, str], ...] = (
    tuple((fr, en, "company") for fr, en in COMPANY_REASONS)
    + tuple((fr, en, "candidate") for fr, en in CANDIDATE_REASONS)
    + tuple((fr, en, "candidate") for fr, en in OFFER_DECLINE_REASONS)
)

# (source name, Lever origin)
SOURCES: tuple[tuple[str, str], ...] = (
    ("LinkedIn", "applied"),
    ("Indeed", "applied"),
    ("Welcome to the Jungle", "applied"),
    ("Site carrière", "applied"),
    ("Careers page", "applied"),
    ("Cooptation", "referred"),
    ("Referral", "referred"),
    ("APEC", "applied"),
    ("France Travail", "applied"),
    ("StepStone", "applied"),
    ("Monster", "applied"),
    ("Glassdoor", "applied"),
    ("Chasse LinkedIn", "sourced"),
    ("Sourcing", "sourced"),
    ("Cabinet de recrutement", "agency"),
    ("Agency", "agency"),
    ("Forum écoles", "university"),
    ("Candidature spontanée", "applied"),
    ("Mobilité interne", "internal"),
)
SOURCE_WEIGHTS: tuple[float, ...] = (
    0.2,
    0.13,
    0.09,
    0.08,
    0.06,
    0.05,
    0.03,
    0.04,
    0.04,
    0.04,
    0.02,
    0.02,
    0.05,
    0.03,
    0.03,
    0.02,
    0.02,
    0.04,
    0.01,
)

TAGS: tuple[str, ...] = (
    "vivier",
    "à recontacter",
    "talent pool",
    "silver medalist",
    "bon profil",
    "remote",
    "bilingue",
    "junior",
    "senior",
    "alternance",
    "CDI",
    "freelance",
    "mobilité",
    "top profil",
)

RECRUITER_COMMENTS: tuple[str, ...] = (
    "Bon échange, à recontacter dans 6 mois.",
    "Profil intéressant mais trop junior pour le poste.\nÀ garder en vivier.",
    "N'a pas donné suite à la relance.",
    "Très bon niveau technique ; attentes salariales hautes.",
    "Strong candidate, keep in touch.",
    "Good communication skills.\nLacked depth on the technical questions.",
    "Disponible sous 3 mois (préavis).",
    "Candidate asked to be considered for future roles.",
)

EMPLOYMENT_TYPES: tuple[tuple[str, str, str], ...] = (
    # (French label, English label, code)
    ("CDI", "Full-time", "fulltime"),
    ("CDD", "Fixed-term contract", "contract"),
    ("Alternance", "Apprenticeship", "apprenticeship"),
    ("Stage", "Internship", "internship"),
    ("Freelance", "Freelance", "freelance"),
    ("Temps partiel", "Part-time", "parttime"),
)
EMPLOYMENT_WEIGHTS: tuple[float, ...] = (0.62, 0.14, 0.08, 0.06, 0.05, 0.05)
