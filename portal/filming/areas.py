"""Regions (kraje) and districts (okresy) of the Czech Republic: the keys of the collection points.

Proper names, shown as they are in both languages. The capital is a region and a district at once.
"""

from __future__ import annotations

from wtforms.fields.choices import SelectChoice

REGIONS: dict[str, tuple[str, ...]] = {
    "Hlavní město Praha": ("Hlavní město Praha",),
    "Středočeský kraj": (
        "Benešov",
        "Beroun",
        "Kladno",
        "Kolín",
        "Kutná Hora",
        "Mělník",
        "Mladá Boleslav",
        "Nymburk",
        "Praha-východ",
        "Praha-západ",
        "Příbram",
        "Rakovník",
    ),
    "Jihočeský kraj": (
        "České Budějovice",
        "Český Krumlov",
        "Jindřichův Hradec",
        "Písek",
        "Prachatice",
        "Strakonice",
        "Tábor",
    ),
    "Plzeňský kraj": ("Domažlice", "Klatovy", "Plzeň-jih", "Plzeň-město", "Plzeň-sever", "Rokycany", "Tachov"),
    "Karlovarský kraj": ("Cheb", "Karlovy Vary", "Sokolov"),
    "Ústecký kraj": ("Děčín", "Chomutov", "Litoměřice", "Louny", "Most", "Teplice", "Ústí nad Labem"),
    "Liberecký kraj": ("Česká Lípa", "Jablonec nad Nisou", "Liberec", "Semily"),
    "Královéhradecký kraj": ("Hradec Králové", "Jičín", "Náchod", "Rychnov nad Kněžnou", "Trutnov"),
    "Pardubický kraj": ("Chrudim", "Pardubice", "Svitavy", "Ústí nad Orlicí"),
    "Kraj Vysočina": ("Havlíčkův Brod", "Jihlava", "Pelhřimov", "Třebíč", "Žďár nad Sázavou"),
    "Jihomoravský kraj": ("Blansko", "Brno-město", "Brno-venkov", "Břeclav", "Hodonín", "Vyškov", "Znojmo"),
    "Olomoucký kraj": ("Jeseník", "Olomouc", "Prostějov", "Přerov", "Šumperk"),
    "Zlínský kraj": ("Kroměříž", "Uherské Hradiště", "Vsetín", "Zlín"),
    "Moravskoslezský kraj": ("Bruntál", "Frýdek-Místek", "Karviná", "Nový Jičín", "Opava", "Ostrava-město"),
}

#: district -> its region
DISTRICT_REGION: dict[str, str] = {district: region for region, districts in REGIONS.items() for district in districts}


def is_region(name: str) -> bool:
    return name in REGIONS


def district_in_region(district: str, region: str) -> bool:
    return DISTRICT_REGION.get(district) == region


def area_choices() -> list[SelectChoice]:
    """Select options grouped by region: the whole region, then each of its districts;
    values ``region:<name>`` or ``district:<name>``."""
    choices: list[SelectChoice] = []
    for region, districts in REGIONS.items():
        choices.append(SelectChoice(f"region:{region}", region, optgroup=region))
        if len(districts) > 1:
            choices += [SelectChoice(f"district:{district}", district, optgroup=region) for district in districts]
    return choices


def district_choices() -> list[SelectChoice]:
    return [SelectChoice(d, d, optgroup=region) for region, districts in REGIONS.items() for d in districts]


def parse_area(value: str) -> tuple[str, str] | None:
    """``region:<name>`` or ``district:<name>`` as (region, district or ""); None when unknown."""
    kind, _, name = value.partition(":")
    if kind == "region" and name in REGIONS:
        return name, ""
    if kind == "district" and name in DISTRICT_REGION:
        return DISTRICT_REGION[name], name
    return None


def area_value(region: str, district: str) -> str:
    if district and district != region:
        return f"district:{district}"
    return f"region:{region}" if region else ""
