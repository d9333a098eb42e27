/** "coupons" -> "Coupons", "loyalty-points" -> "LoyaltyPoints" */
export function pascalCase(name) {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join("");
}
