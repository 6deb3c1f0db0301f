// eNom's SSL products by family, and what each family allows. One table, taken from the eNom
// reference (../shared/enom-api.md §3.2, §3.6, §3.8, §3.9, §5), used by the client, the order
// routes and the simulator alike. Pure data: no I/O, no framework imports.

export type FamilyId = 'geotrust' | 'comodo' | 'encryption_everywhere' | 'ucc'
export type DcvMethod = 'email' | 'file' | 'dns'
export type WebServerName = 'apache' | 'nginx' | 'iis' | 'tomcat' | 'cpanel' | 'plesk' | 'other'

export interface Family {
  id: FamilyId
  label: string
  /** eNom WebServerType codes accepted by CertConfigureCert for this family. */
  webServerTypes: Readonly<Record<number, string>>
  /** Symbolic names the API accepts, mapped to this family's codes. */
  webServerNames: Readonly<Record<WebServerName, number>>
  /** DCV methods every product of the family has (some products add more, see Product). */
  dcvMethods: readonly DcvMethod[]
  /** Subject alternative names through UCCDomainList (UCC only). */
  sans: boolean
  maxSans: number
  /** CertReissueCert (Symantec/VeriSign/GeoTrust only). */
  reissue: boolean
  /** CertResendFulfillmentEmail (Symantec/VeriSign/GeoTrust only). */
  resendFulfillment: boolean
  /** Status ids 9 (Approval Email Sent) and 10 (Approved by Domain Owner) occur (Comodo only). */
  approvalStatuses: boolean
  /** CertPurchaseCert must carry the CSR* organisation fields (Comodo and UCC). */
  purchaseNeedsCsrFields: boolean
  /** An approver e-mail is required by CertPurchaseCert (all but Encryption Everywhere). */
  approverEmailRequired: boolean
}

// GeoTrust/RapidSSL/VeriSign/Symantec WebServerType codes (§3.6).
const GEOTRUST_SERVERS: Record<number, string> = {
  1: 'Apache + MOD SSL',
  2: 'Apache + Raven',
  3: 'Apache + SSLeay',
  4: 'C2Net Stronghold',
  7: 'IBM HTTP',
  8: 'iPlanet Server 4.1',
  9: 'Lotus Domino Go 4.6.2.51',
  10: 'Lotus Domino Go 4.6.2.6+',
  11: 'Lotus Domino 4.6+',
  12: 'Microsoft IIS 4.0',
  13: 'Microsoft IIS 5.0',
  14: 'Netscape Enterprise/FastTrack',
  17: 'Zeus v3+',
  18: 'Other',
  20: 'Apache + OpenSSL',
  21: 'Apache 2',
  22: 'Apache + ApacheSSL',
  23: 'Cobalt Series',
  24: 'Cpanel',
  25: 'Ensim',
  26: 'Hsphere',
  27: 'Ipswitch',
  28: 'Plesk',
  29: 'Jakart-Tomcat',
  30: 'WebLogic (all versions)',
  31: "O'Reilly WebSite Professional",
  32: 'WebStar',
  33: 'Microsoft IIS 6.0'
}

// Comodo/Sectigo WebServerType codes (§3.6).
const COMODO_SERVERS: Record<number, string> = {
  1000: 'Other',
  1001: 'AOL',
  1002: 'Apache/ModSSL',
  1003: 'Apache-SSL (Ben-SSL, not Stronghold)',
  1004: 'C2Net Stronghold',
  1005: 'Cobalt Raq',
  1006: 'Covalent Server Software',
  1007: 'IBM HTTP Server',
  1008: 'IBM Internet Connection Server',
  1009: 'iPlanet',
  1010: 'Java Web Server (Javasoft / Sun)',
  1011: 'Lotus Domino',
  1012: 'Lotus Domino Go!',
  1013: 'Microsoft IIS 1.x to 4.x',
  1014: 'Microsoft IIS 5.x and later',
  1015: 'Netscape Enterprise Server',
  1016: 'Netscape FastTrack',
  1017: 'Novell Web Server',
  1018: 'Oracle',
  1019: 'Quid Pro Quo',
  1020: 'R3 SSL Server',
  1021: 'Raven SSL',
  1022: 'RedHat Linux',
  1023: 'SAP Web Application Server',
  1024: 'Tomcat',
  1025: 'Website Professional',
  1026: 'WebStar 4.x and later',
  1027: 'WebTen (from Tenon)',
  1028: 'Zeus Web Server',
  1029: 'Ensim',
  1030: 'Plesk',
  1031: 'WHM/cPanel',
  1032: 'H-Sphere'
}

const GEOTRUST_NAMES: Record<WebServerName, number> = { apache: 21, nginx: 18, iis: 33, tomcat: 29, cpanel: 24, plesk: 28, other: 18 }
const COMODO_NAMES: Record<WebServerName, number> = { apache: 1002, nginx: 1000, iis: 1014, tomcat: 1024, cpanel: 1031, plesk: 1030, other: 1000 }

export const FAMILIES: Readonly<Record<FamilyId, Family>> = {
  geotrust: {
    id: 'geotrust',
    label: 'RapidSSL / GeoTrust / Symantec',
    webServerTypes: GEOTRUST_SERVERS,
    webServerNames: GEOTRUST_NAMES,
    dcvMethods: ['email'],
    sans: false,
    maxSans: 0,
    reissue: true,
    resendFulfillment: true,
    approvalStatuses: false,
    purchaseNeedsCsrFields: false,
    approverEmailRequired: true
  },
  comodo: {
    id: 'comodo',
    label: 'Comodo / Sectigo',
    webServerTypes: COMODO_SERVERS,
    webServerNames: COMODO_NAMES,
    dcvMethods: ['email'],
    sans: false,
    maxSans: 0,
    reissue: false,
    resendFulfillment: false,
    approvalStatuses: true,
    purchaseNeedsCsrFields: true,
    approverEmailRequired: true
  },
  encryption_everywhere: {
    id: 'encryption_everywhere',
    label: 'Symantec Encryption Everywhere',
    webServerTypes: GEOTRUST_SERVERS,
    webServerNames: GEOTRUST_NAMES,
    dcvMethods: ['file', 'dns'],
    sans: false,
    maxSans: 0,
    reissue: true,
    resendFulfillment: true,
    approvalStatuses: false,
    purchaseNeedsCsrFields: false,
    approverEmailRequired: false
  },
  ucc: {
    id: 'ucc',
    label: 'Comodo UCC (multi-domain)',
    webServerTypes: COMODO_SERVERS,
    webServerNames: COMODO_NAMES,
    dcvMethods: ['email'],
    sans: true,
    maxSans: 100,
    reissue: false,
    resendFulfillment: false,
    approvalStatuses: true,
    purchaseNeedsCsrFields: true,
    approverEmailRequired: true
  }
}

export interface Product {
  /** eNom ProdType id (GetCerts, CertGetCerts). */
  prodType: number
  /** The PurchaseServices Service code, lower-case as GetCerts lists it. */
  code: string
  description: string
  family: FamilyId
  wildcard: boolean
  validation: 'DV' | 'OV' | 'EV'
  /** DCV methods of this product: the family's, plus File/DNS for RapidSSL/QuickSSL (§3.8). */
  dcvMethods: readonly DcvMethod[]
}

function product (prodType: number, code: string, description: string, family: FamilyId,
  validation: Product['validation'], extra: { wildcard?: boolean, fileDns?: boolean } = {}): Product {
  const base = FAMILIES[family].dcvMethods
  return {
    prodType,
    code,
    description,
    family,
    wildcard: extra.wildcard ?? false,
    validation,
    dcvMethods: extra.fileDns ? [...new Set<DcvMethod>([...base, 'file', 'dns'])] : base
  }
}

/** The ProdType ids of §3.2 with the old catalogue's service codes (§3.1). */
export const PRODUCTS: readonly Product[] = [
  product(23, 'certificate-rapidssl-rapidssl', 'SSL Certificate - RapidSSL', 'geotrust', 'DV', { fileDns: true }),
  product(285, 'certificate-rapidssl-rapidssl-wildcard', 'SSL Certificate - RapidSSL Wildcard', 'geotrust', 'DV', { wildcard: true, fileDns: true }),
  product(26, 'certificate-geotrust-quickssl', 'SSL Certificate - GeoTrust QuickSSL', 'geotrust', 'DV', { fileDns: true }),
  product(20, 'certificate-geotrust-quickssl-premium', 'SSL Certificate - GeoTrust QuickSSL Premium', 'geotrust', 'DV', { fileDns: true }),
  product(21, 'certificate-geotrust-truebizid', 'SSL Certificate - GeoTrust True BusinessID', 'geotrust', 'OV'),
  product(27, 'certificate-geotrust-truebizid-wildcard', 'SSL Certificate - GeoTrust True BusinessID Wildcard', 'geotrust', 'OV', { wildcard: true }),
  product(24, 'certificate-geotrust-truebizid-ev', 'SSL Certificate - GeoTrust True BusinessID with EV', 'geotrust', 'EV'),
  product(180, 'certificate-verisign-secure-site', 'SSL Certificate - Symantec Secure Site', 'geotrust', 'OV'),
  product(181, 'certificate-verisign-secure-site-pro', 'SSL Certificate - Symantec Secure Site Pro', 'geotrust', 'OV'),
  product(182, 'certificate-verisign-secure-site-ev', 'SSL Certificate - Symantec Secure Site with EV', 'geotrust', 'EV'),
  product(183, 'certificate-verisign-secure-site-pro-ev', 'SSL Certificate - Symantec Secure Site Pro with EV', 'geotrust', 'EV'),
  product(286, 'certificate-symantec-encryption-everywhere', 'Symantec Encryption Everywhere', 'encryption_everywhere', 'DV'),
  product(211, 'certificate-comodo-essential', 'SSL Certificate - Comodo Essential', 'comodo', 'DV'),
  product(212, 'certificate-comodo-instant', 'SSL Certificate - Comodo Instant', 'comodo', 'OV'),
  product(213, 'certificate-comodo-premium-wildcard', 'SSL Certificate - Comodo Premium Wildcard', 'comodo', 'OV', { wildcard: true }),
  product(214, 'certificate-comodo-essential-wildcard', 'SSL Certificate - Comodo Essential Wildcard', 'comodo', 'DV', { wildcard: true }),
  product(221, 'certificate-comodo-ev', 'SSL Certificate - Comodo EV', 'comodo', 'EV'),
  product(222, 'certificate-comodo-ev-sgc', 'SSL Certificate - Comodo EV SGC', 'comodo', 'EV'),
  product(270, 'certificate-comodo-ucc-dv', 'SSL Certificate - Comodo UCC DV', 'ucc', 'DV'),
  product(274, 'certificate-comodo-ucc-ov', 'SSL Certificate - Comodo UCC OV', 'ucc', 'OV')
]

const BY_TYPE = new Map(PRODUCTS.map((p) => [p.prodType, p]))
const BY_CODE = new Map(PRODUCTS.map((p) => [p.code, p]))

export function productByType (prodType: number): Product | undefined {
  return BY_TYPE.get(prodType)
}

/** Service codes are case-insensitive at eNom (WHMCS lower-cases them). */
export function productByCode (code: string): Product | undefined {
  return BY_CODE.get(code.toLowerCase())
}

/**
 * The family of a product eNom lists. Products missing from the table (eNom renames its
 * catalogue over time) are placed by their description, Comodo/Sectigo or UCC by name, else
 * the GeoTrust/Symantec family.
 */
export function familyOf (prodType: number, description = ''): FamilyId {
  const known = BY_TYPE.get(prodType)
  if (known) return known.family
  if (/ucc|multi.?domain|\bsan\b/i.test(description)) return 'ucc'
  if (/comodo|sectigo|positive ?ssl/i.test(description)) return 'comodo'
  if (/encryption everywhere/i.test(description)) return 'encryption_everywhere'
  return 'geotrust'
}

/** Resolves a symbolic web server name or a raw eNom code to this family's code. */
export function webServerCode (family: FamilyId, value: string | number): number | undefined {
  const f = FAMILIES[family]
  if (typeof value === 'number' || /^\d+$/.test(value)) {
    const code = Number(value)
    return code in f.webServerTypes ? code : undefined
  }
  return f.webServerNames[value.toLowerCase() as WebServerName]
}

/** eNom's CertStatusID values (§5). Logic keys on these ids, never on the status text. */
export const CERT_STATUS = {
  AWAITING_CONFIGURATION: 1,
  PROCESSING: 2,
  ISSUED: 4,
  REJECTED: 6,
  REFUNDED_NO_CERT: 7,
  REFUNDED_CERT_ISSUED: 8,
  APPROVAL_EMAIL_SENT: 9,
  APPROVED: 10
} as const

export const CERT_STATUS_TEXT: Readonly<Record<number, string>> = {
  1: 'Awaiting Configuration',
  2: 'Processing',
  4: 'Certificate Issued',
  6: 'Rejected by Customer',
  7: 'Refunded - No Cert Issued',
  8: 'Refunded - Cert Issued',
  9: 'Approval Email Sent',
  10: 'Approved by Domain Owner',
  12: 'Pending Installation',
  13: 'Cert Installed'
}

/** Which after-sale commands eNom accepts in which status (§3.9), before the family's own limits. */
export const ACTIONS_BY_STATUS = {
  configure: [1, 6],
  cancelConfiguration: [2, 9],
  resendApproverEmail: [2, 9],
  changeApproverEmail: [2, 9],
  resendFulfillmentEmail: [4, 10],
  reissue: [4]
} as const satisfies Record<string, readonly number[]>
